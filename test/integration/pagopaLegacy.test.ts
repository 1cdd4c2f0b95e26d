// The legacy EC endpoints (PaPerNodoPagamentoPsp, PaPerNodo, PaPerNodoRichiestaAvvisi) with clients
// built from the OFFICIAL WSDLs, on a demo station switched to the legacy dialect, with the emulated
// node mounted beside the connector: model 3 (paaVerificaRPT → paaAttivaRPT → our nodoInviaRPT →
// paaInviaRT), the RT rules (duplicate, negative, unknown key, bad document), model 4, and the RPT
// sender's retries. Every answer is checked against our schema and the official one, every RPT too.

import { expect } from 'chai';
import type * as soap from 'soap';
import { forEachDatabase } from '../support/db.ts';
import { specAvailable } from '../support/officialSchemas.ts';
import { businessSnapshot } from '../support/soapServer.ts';
import { seedDemo, type DemoSummary } from '../../src/app/seedDemo.ts';
import { buildRt, parseRptXml } from '../../src/emulator/rpt.ts';
import { NodeClient } from '../../src/pagopa/nodeClient.ts';
import { RPT_QUEUED, RPT_SEND_FAILED, sendPendingRpts } from '../../src/app/pagopa/rptSender.ts';
import { activateLegacyNotice } from '../../src/app/pagopa/legacyNotices.ts';
import type { StoredRpt } from '../../src/emulator/db.ts';
import {
  BROKER,
  callLegacy,
  COMUNE,
  documentField,
  expectValidDocument,
  faultCodeOf,
  inner,
  intestazionePPT,
  newCcp,
  officialClient,
  PSP,
  STATION,
  startLegacyServer,
  UNIONE,
  useLegacyStation,
  type LegacyServer,
  type Tree,
} from './pagopaLegacySupport.ts';

const CALLER = { enteFiscalCode: COMUNE, brokerFiscalCode: BROKER, stationId: STATION };

forEachDatabase('pagoPA legacy model (PaPerNodo*) with clients from the official WSDLs', (ctx) => {
  let server: LegacyServer;
  let psp: soap.Client;
  let rtClient: soap.Client;
  let avvisi: soap.Client;
  let demo: DemoSummary;
  let comuneId: number;

  before(async function () {
    if (!specAvailable()) this.skip();
    demo = await seedDemo(ctx.store);
    await useLegacyStation(ctx);
    comuneId = (await ctx.store.enti.getByFiscalCode(COMUNE))!.id;
    server = await startLegacyServer(ctx);
    psp = await officialClient(server.url, 'PaPerNodoPagamentoPsp.wsdl');
    rtClient = await officialClient(server.url, 'PaPerNodo.wsdl');
    avvisi = await officialClient(server.url, 'PaPerNodoRichiestaAvvisi.wsdl');
  });
  after(() => server?.close());

  function demoIuv(positionId: string): string {
    return demo.positions.find((p) => p.positionId === positionId)!.iuv;
  }

  async function verifica(iuv: string, ccp: string, ente = COMUNE): Promise<Tree> {
    const answer = await callLegacy(
      psp,
      'PaPerNodoPagamentoPsp.wsdl',
      'paaVerificaRPT',
      intestazionePPT({ ente, iuv, ccp }),
      { identificativoPSP: PSP.idPSP },
    );
    return inner(answer, 'paaVerificaRPTRisposta');
  }

  async function attiva(iuv: string, ccp: string, amount: string, ente = COMUNE): Promise<Tree> {
    const answer = await callLegacy(
      psp,
      'PaPerNodoPagamentoPsp.wsdl',
      'paaAttivaRPT',
      intestazionePPT({ ente, iuv, ccp }),
      {
        identificativoPSP: PSP.idPSP,
        datiPagamentoPSP: { importoSingoloVersamento: amount },
        identificativoIntermediarioPSP: PSP.idBrokerPSP,
        identificativoCanalePSP: PSP.idChannel,
      },
    );
    return inner(answer, 'paaAttivaRPTRisposta');
  }

  async function inviaRT(iuv: string, ccp: string, rt: string, ente = COMUNE): Promise<Tree> {
    const answer = await callLegacy(
      rtClient,
      'PaPerNodo.wsdl',
      'paaInviaRT',
      intestazionePPT({ ente, iuv, ccp }),
      {
        tipoFirma: '',
        rt: Buffer.from(rt, 'utf8').toString('base64'),
      },
    );
    return inner(answer, 'paaInviaRTRisposta');
  }

  /** Activates with a fresh CCP and waits for the RPT our sender owes the node. */
  async function activated(iuv: string, amount: string): Promise<{ ccp: string; rpt: StoredRpt }> {
    const ccp = newCcp();
    expect((await attiva(iuv, ccp, amount)).esito).to.equal('OK');
    await server.dispatcher.idle();
    const rpt = await server.edb.rpts.get({ idDominio: COMUNE, iuv, ccp });
    expect(rpt, 'the RPT reached the node').to.not.equal(null);
    return { ccp, rpt: rpt! };
  }

  async function rtFor(rpt: StoredRpt, outcome: '0' | '1'): Promise<string> {
    const emulated = (await server.edb.psps.get(PSP.idPSP))!;
    return buildRt(parseRptXml(rpt.rptXml), emulated, outcome, new Date()).xml;
  }

  async function attemptsOf(iuv: string) {
    return ctx.store.payments.listByIuv(comuneId, iuv);
  }

  describe('paaVerificaRPT', () => {
    it('answers the amount due, IBAN, beneficiary and causale of a demo notice, changing nothing', async () => {
      const before = await businessSnapshot(ctx.db);
      const answer = await verifica(demoIuv('DEMO-TARI-0001'), newCcp());
      expect(await businessSnapshot(ctx.db)).to.deep.equal(before);
      expect(answer.esito).to.equal('OK');
      const dati = answer.datiPagamentoPA as Tree;
      expect(dati).to.deep.include({
        importoSingoloVersamento: '120.30',
        ibanAccredito: 'IT92F0306901000100000046001',
        causaleVersamento: '/RFB/01000000000000144/120.30/TXT/TARI 2026 - DEMO-TARI-0001',
      });
      expect(dati.enteBeneficiario).to.deep.equal({
        identificativoUnivocoBeneficiario: {
          tipoIdentificativoUnivoco: 'G',
          codiceIdentificativoUnivoco: COMUNE,
        },
        denominazioneBeneficiario: 'Comune di Esempio',
      });
    });

    it('answers KO PAA_PAGAMENTO_SCONOSCIUTO for an IUV the EC never issued', async () => {
      const answer = await verifica('01000000009999058', newCcp());
      expect(answer.esito).to.equal('KO');
      expect(faultCodeOf(answer)).to.equal('PAA_PAGAMENTO_SCONOSCIUTO');
      expect((answer.fault as Tree).id).to.equal(COMUNE);
    });

    it('answers KO PAA_SEMANTICA for a notice with a share for another EC (one RPT carries one EC)', async () => {
      const answer = await verifica(demoIuv('DEMO-TARI-TEFA-0001'), newCcp());
      expect(faultCodeOf(answer)).to.equal('PAA_SEMANTICA');
    });

    it('answers KO PAA_ID_DOMINIO_ERRATO for an EC this intermediary does not serve', async () => {
      const answer = await verifica(demoIuv('DEMO-TARI-0001'), newCcp(), '00000000000');
      expect(faultCodeOf(answer)).to.equal('PAA_ID_DOMINIO_ERRATO');
    });
  });

  describe('paaAttivaRPT and the RPT that follows', () => {
    it('records the attempt with the PSP CCP and sends nodoInviaRPT (PO, same CCP and PSP), valid against both schemas', async () => {
      const iuv = demoIuv('DEMO-TARI-0002');
      const ccp = newCcp();
      const answer = await attiva(iuv, ccp, '87.50');
      expect(answer.esito).to.equal('OK');
      expect((answer.datiPagamentoPA as Tree).importoSingoloVersamento).to.equal('87.50');
      await server.dispatcher.idle();

      const rpt = await server.edb.rpts.get({ idDominio: COMUNE, iuv, ccp });
      expect(rpt).to.include({
        pspId: PSP.idPSP,
        tipoVersamento: 'PO',
        amountCents: 8750,
        stationId: STATION,
      });
      expectValidDocument(rpt!.rptXml);
      expect(documentField(rpt!.rptXml, 'codiceContestoPagamento')).to.equal(ccp);
      expect(documentField(rpt!.rptXml, 'identificativoUnivocoVersamento')).to.equal(iuv);

      const [attempt] = await attemptsOf(iuv);
      expect(attempt).to.include({ kind: 'rpt', ccpOrToken: ccp, status: 'IN_PROGRESS', pspId: PSP.idPSP });
      expect(attempt!.channelId).to.equal(PSP.idChannel);
      expect(attempt!.requestDocument, 'the RPT accepted by the node is kept whole').to.equal(rpt!.rptXml);
      const actions = (await ctx.store.events.listFor('payment', attempt!.id)).map((e) => e.action);
      expect(actions).to.deep.equal(['created', RPT_QUEUED, 'rpt_sent']);
      const logged = await ctx
        .db('events')
        .where({ entity_type: 'soap_message', cause: 'NodoPerPa.nodoInviaRPT', actor: 'node-client' })
        .select('action');
      expect(logged.map((e: { action: string }) => e.action)).to.include.members(['request', 'response']);
    });

    it('answers the same CCP again as the same attempt, and another CCP with PAA_PAGAMENTO_IN_CORSO', async () => {
      const iuv = demoIuv('DEMO-TARI-0003');
      const { ccp } = await activated(iuv, '234.00');
      expect((await attiva(iuv, ccp, '234.00')).esito).to.equal('OK');
      expect(await attemptsOf(iuv)).to.have.length(1);

      const other = newCcp('OTHER');
      expect(faultCodeOf(await attiva(iuv, other, '234.00'))).to.equal('PAA_PAGAMENTO_IN_CORSO');
      expect(faultCodeOf(await verifica(iuv, other))).to.equal('PAA_PAGAMENTO_IN_CORSO');
      expect((await verifica(iuv, ccp)).esito, 'the PSP holding the attempt may verify again').to.equal('OK');
      expect(await attemptsOf(iuv)).to.have.length(1);
    });

    it('answers KO PAA_ATTIVA_RPT_IMPORTO_NON_VALIDO for another amount, recording nothing', async () => {
      const before = await businessSnapshot(ctx.db);
      const answer = await attiva(demoIuv('DEMO-TARI-0004'), newCcp(), '49.99');
      expect(faultCodeOf(answer)).to.equal('PAA_ATTIVA_RPT_IMPORTO_NON_VALIDO');
      expect((answer.fault as Tree).id).to.equal(COMUNE);
      expect(await businessSnapshot(ctx.db)).to.deep.equal(before);
    });
  });

  describe('paaInviaRT', () => {
    it('closes the position once on a positive RT and answers a repeat PAA_RT_DUPLICATA', async () => {
      const iuv = demoIuv('DEMO-TARI-0005');
      const { ccp, rpt } = await activated(iuv, '319.99');
      const rt = await rtFor(rpt, '0');
      expectValidDocument(rt);

      expect(await inviaRT(iuv, ccp, rt)).to.deep.equal({ esito: 'OK' });
      const position = await ctx.store.positions.findByIuv(comuneId, iuv);
      expect(position!.status).to.equal('PAID');
      const receipts = await ctx.store.receipts.listByIuv(comuneId, iuv);
      expect(receipts).to.have.length(1);
      expect(receipts[0]).to.include({
        source: 'paaInviaRT',
        ccp,
        outcome: 'OK',
        amountCents: 31999,
        pspId: PSP.idPSP,
        flaggedReason: null,
        receiptId: documentField(rt, 'identificativoUnivocoRiscossione'),
        document: rt,
      });
      expect((await attemptsOf(iuv)).map((p) => p.status)).to.deep.equal(['PAID']);

      const before = await businessSnapshot(ctx.db);
      const again = await inviaRT(iuv, ccp, rt);
      expect(again.esito).to.equal('KO');
      expect(faultCodeOf(again)).to.equal('PAA_RT_DUPLICATA');
      expect(await businessSnapshot(ctx.db), 'no second payment').to.deep.equal(before);
      const positionEvents = await ctx.store.events.listFor('position', position!.id);
      expect(positionEvents.filter((e) => e.toStatus === 'PAID')).to.have.length(1);
    });

    it('fails the attempt on a negative RT and leaves the position payable', async () => {
      const iuv = demoIuv('DEMO-TARI-0006');
      const { ccp, rpt } = await activated(iuv, '1540.00');
      const rt = await rtFor(rpt, '1');
      expect(await inviaRT(iuv, ccp, rt)).to.deep.equal({ esito: 'OK' });
      expect((await ctx.store.positions.findByIuv(comuneId, iuv))!.status).to.equal('VALID');
      expect((await attemptsOf(iuv)).map((p) => p.status)).to.deep.equal(['FAILED']);
      const [receipt] = await ctx.store.receipts.listByIuv(comuneId, iuv);
      expect(receipt).to.include({ outcome: 'KO', flaggedReason: 'NEGATIVE_OUTCOME', amountCents: 0 });
      expect((await verifica(iuv, newCcp())).esito, 'another PSP may now try').to.equal('OK');
      expect(faultCodeOf(await inviaRT(iuv, ccp, rt))).to.equal('PAA_RT_DUPLICATA');
    });

    it('answers KO PAA_RPT_SCONOSCIUTA for a CCP no RPT of ours carries, changing nothing', async () => {
      const iuv = demoIuv('DEMO-TARI-RATE-0001');
      const { rpt } = await activated(iuv, '300.00');
      const unknown = newCcp('UNKNOWN');
      const rt = (await rtFor(rpt, '0')).replace(rpt.ccp, unknown);
      const before = await businessSnapshot(ctx.db);
      expect(faultCodeOf(await inviaRT(iuv, unknown, rt))).to.equal('PAA_RPT_SCONOSCIUTA');
      expect(await businessSnapshot(ctx.db)).to.deep.equal(before);
    });

    it('answers KO PAA_SINTASSI_XSD for an RT that breaks its schema and PAA_SEMANTICA for one naming another CCP', async () => {
      const iuv = demoIuv('DEMO-MENSA-0001');
      const { ccp, rpt } = await activated(iuv, '64.80');
      const rt = await rtFor(rpt, '0');
      const broken = rt.replace(/<pay_i:codiceEsitoPagamento>0</, '<pay_i:codiceEsitoPagamento>7<');
      expect(faultCodeOf(await inviaRT(iuv, ccp, broken))).to.equal('PAA_SINTASSI_XSD');
      const other = rt.replace(`>${ccp}<`, `>${newCcp('X')}<`);
      expect(faultCodeOf(await inviaRT(iuv, ccp, other))).to.equal('PAA_SEMANTICA');
      expect((await ctx.store.positions.findByIuv(comuneId, iuv))!.status).to.equal('VALID');
    });
  });

  describe('paaChiediNumeroAvviso', () => {
    it('creates a spontaneous position and answers its notice number in parts with datiPagamentoPA', async () => {
      const data =
        '<service xmlns="http://PuntoAccessoPSP.spcoop.gov.it/Servizio_generico"><codiceServizio>CANONE</codiceServizio>' +
        '<partitaIva>00514490010</partitaIva><importo>33.00</importo><causale>Canone chiosco</causale></service>';
      const answer = inner(
        await callLegacy(
          avvisi,
          'PaPerNodoRichiestaAvvisi.wsdl',
          'paaChiediNumeroAvviso',
          {
            intestazionePPT: {
              identificativoIntermediarioPA: BROKER,
              identificativoStazioneIntermediarioPA: STATION,
              identificativoDominio: UNIONE,
            },
          },
          { identificativoPSP: PSP.idPSP, datiSpecificiServizio: Buffer.from(data).toString('base64') },
        ),
        'paaChiediNumeroAvvisoRisposta',
      );
      expect(answer.esito).to.equal('OK');
      const numero = answer.numeroAvviso as Tree;
      expect(numero.auxDigit).to.equal('3');
      expect(numero.IUV).to.match(/^02\d{15}$/);
      expect(answer.datiPagamentoPA).to.deep.include({
        importoSingoloVersamento: '33.00',
        causaleVersamento: `/RFB/${String(numero.IUV)}/33.00/TXT/Canone chiosco`,
      });
      const unione = (await ctx.store.enti.getByFiscalCode(UNIONE))!;
      const position = await ctx.store.positions.findByIuv(unione.id, String(numero.IUV));
      expect(position).to.include({ status: 'VALID', description: 'Canone chiosco' });
    });
  });

  describe('the RPT sender', () => {
    it('keeps an RPT the node could not take and sends it once the node answers', async () => {
      const iuv = demoIuv('DEMO-CANONE-0001');
      const ccp = newCcp('OFFLINE');
      const unione = (await ctx.store.enti.getByFiscalCode(UNIONE))!;
      // Recorded as paaAttivaRPT does, but no sender is woken: as if the connector crashed after answering.
      await activateLegacyNotice(
        ctx.store,
        { caller: { ...CALLER, enteFiscalCode: UNIONE }, iuv, ccp },
        { amountCents: 45000, psp: PSP },
      );
      const offline = new NodeClient({
        baseUrl: 'http://127.0.0.1:9/emulator',
        timeoutMs: 500,
        store: ctx.store,
      });
      const first = await sendPendingRpts(ctx.store, offline);
      expect(first).to.include({ sent: 0, retrying: 1 });
      expect(first.nextAttemptAt).to.be.instanceOf(Date);
      const [attempt] = await ctx.store.payments.listByIuv(unione.id, iuv);
      expect(attempt).to.include({ status: 'IN_PROGRESS', requestDocument: null });
      const soon = await sendPendingRpts(ctx.store, offline);
      expect(soon, 'the retry waits for its backoff').to.include({ waiting: 1, retrying: 0 });

      const later = new Date(Date.now() + 5_000);
      const second = await sendPendingRpts(ctx.store, server.node, { now: later });
      expect(second).to.include({ sent: 1, failed: 0 });
      const rpt = await server.edb.rpts.get({ idDominio: UNIONE, iuv, ccp });
      expectValidDocument(rpt!.rptXml);
      const actions = (await ctx.store.events.listFor('payment', attempt!.id)).map((e) => e.action);
      expect(actions).to.deep.equal(['created', RPT_QUEUED, RPT_SEND_FAILED, 'rpt_sent']);
      expect((await sendPendingRpts(ctx.store, server.node, { now: later })).sent).to.equal(0);
    });

    it('fails the attempt when the node refuses the RPT for good, freeing the notice', async () => {
      const iuv = demoIuv('DEMO-CANONE-0003');
      const unione = (await ctx.store.enti.getByFiscalCode(UNIONE))!;
      await activateLegacyNotice(
        ctx.store,
        { caller: { ...CALLER, enteFiscalCode: UNIONE }, iuv, ccp: newCcp('REFUSED') },
        { amountCents: 9900, psp: { ...PSP, idPSP: 'NOSUCHPSP' } },
      );
      const summary = await sendPendingRpts(ctx.store, server.node);
      expect(summary).to.include({ failed: 1, sent: 0 });
      const [attempt] = await ctx.store.payments.listByIuv(unione.id, iuv);
      expect(attempt!.status).to.equal('FAILED');
      const events = await ctx.store.events.listFor('payment', attempt!.id);
      expect(events.at(-1)!.cause).to.match(/PPT_PSP_SCONOSCIUTO/);
      expect((await verifica(iuv, newCcp(), UNIONE)).esito).to.equal('OK');
    });
  });
});
