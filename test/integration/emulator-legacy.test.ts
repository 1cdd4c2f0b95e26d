// The emulator's side of model 3 on a legacy station (paaVerificaRPT → paaAttivaRPT → the EC's
// nodoInviaRPT → paaInviaRT), against a stand-in legacy EC served on the connector's own legacy
// endpoints (the connector's real legacy side comes later). Every message of the run, both ways, is
// checked against our schemas and the official ones, and the RT against the official RPT/RT schema.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import * as soap from 'soap';
import { XmlElement } from 'libxml2-wasm';
import { forEachDatabase, randomEnteFiscalCode, TEST_IBAN } from '../support/db.ts';
import { OFFICIAL_DOCUMENTS, officialValidator, specAvailable } from '../support/officialSchemas.ts';
import { TEST_MAX_BODY_BYTES } from '../support/soapServer.ts';
import { buildApp, defaultSoapBindings } from '../../src/main.ts';
import { buildAux3FromSequence } from '../../src/domain/noticeNumber.ts';
import type { SoapServiceBinding, OperationHandler } from '../../src/soap/server.ts';
import { loadManifest } from '../../src/soap/manifest.ts';
import { readEnvelope } from '../../src/soap/envelope.ts';
import { parseUntrusted, schemaFor, schemaSetFor } from '../../src/xml/schema.ts';
import { payNotice } from '../../src/emulator/index.ts';
import { createEmulatorDb } from '../../src/emulator/db.ts';
import { RPT_RT_XSD } from '../../src/emulator/rpt.ts';

const PPTHEAD = 'http://ws.pagamenti.telematici.gov/ppthead';
const PASSWORD = 'LegacyPass01';

/** How the stand-in EC behaves in one test. */
interface StandIn {
  verifyFault: string | null;
  sendsRpt: boolean;
  rts: string[];
}

function rptXml(o: { idDominio: string; iuv: string; ccp: string; station: string; cents: number }): string {
  const amount = (o.cents / 100).toFixed(2);
  return `<?xml version="1.0" encoding="UTF-8"?>
<pay_i:RPT xmlns:pay_i="http://www.digitpa.gov.it/schemas/2011/Pagamenti/">
  <pay_i:versioneOggetto>6.2.0</pay_i:versioneOggetto>
  <pay_i:dominio><pay_i:identificativoDominio>${o.idDominio}</pay_i:identificativoDominio>
    <pay_i:identificativoStazioneRichiedente>${o.station}</pay_i:identificativoStazioneRichiedente></pay_i:dominio>
  <pay_i:identificativoMessaggioRichiesta>MSG-${o.ccp.slice(0, 20)}</pay_i:identificativoMessaggioRichiesta>
  <pay_i:dataOraMessaggioRichiesta>2026-11-20T10:00:00</pay_i:dataOraMessaggioRichiesta>
  <pay_i:autenticazioneSoggetto>N/A</pay_i:autenticazioneSoggetto>
  <pay_i:soggettoPagatore><pay_i:identificativoUnivocoPagatore><pay_i:tipoIdentificativoUnivoco>F</pay_i:tipoIdentificativoUnivoco>
    <pay_i:codiceIdentificativoUnivoco>RSSMRA85T10A562S</pay_i:codiceIdentificativoUnivoco></pay_i:identificativoUnivocoPagatore>
    <pay_i:anagraficaPagatore>Mario Rossi</pay_i:anagraficaPagatore></pay_i:soggettoPagatore>
  <pay_i:enteBeneficiario><pay_i:identificativoUnivocoBeneficiario><pay_i:tipoIdentificativoUnivoco>G</pay_i:tipoIdentificativoUnivoco>
    <pay_i:codiceIdentificativoUnivoco>${o.idDominio}</pay_i:codiceIdentificativoUnivoco></pay_i:identificativoUnivocoBeneficiario>
    <pay_i:denominazioneBeneficiario>Comune legacy</pay_i:denominazioneBeneficiario></pay_i:enteBeneficiario>
  <pay_i:datiVersamento>
    <pay_i:dataEsecuzionePagamento>2026-11-20</pay_i:dataEsecuzionePagamento>
    <pay_i:importoTotaleDaVersare>${amount}</pay_i:importoTotaleDaVersare>
    <pay_i:tipoVersamento>PO</pay_i:tipoVersamento>
    <pay_i:identificativoUnivocoVersamento>${o.iuv}</pay_i:identificativoUnivocoVersamento>
    <pay_i:codiceContestoPagamento>${o.ccp}</pay_i:codiceContestoPagamento>
    <pay_i:firmaRicevuta>0</pay_i:firmaRicevuta>
    <pay_i:datiSingoloVersamento><pay_i:importoSingoloVersamento>${amount}</pay_i:importoSingoloVersamento>
      <pay_i:ibanAccredito>${TEST_IBAN}</pay_i:ibanAccredito>
      <pay_i:causaleVersamento>/RFB/${o.iuv}/${amount}/TXT/Tassa</pay_i:causaleVersamento>
      <pay_i:datiSpecificiRiscossione>9/0101101IM/</pay_i:datiSpecificiRiscossione></pay_i:datiSingoloVersamento>
  </pay_i:datiVersamento>
</pay_i:RPT>`;
}

forEachDatabase('pagoPA node emulator: legacy model 3 against a stand-in legacy EC', (ctx) => {
  let server: Server;
  let url = '';
  let enteFiscalCode = '';
  let brokerCode = '';
  let stationId = '';
  const standIn: StandIn = { verifyFault: null, sendsRpt: true, rts: [] };
  const CENTS = 5000;

  /** The EC's own nodoInviaRPT, as a legacy connector sends it right after paaAttivaRPT. */
  async function sendRptLikeTheEc(psp: Record<string, unknown>): Promise<void> {
    const [attempt] = await ctx
      .db('emulator_payments')
      .where({ kind: 'legacy' })
      .orderBy('id', 'desc')
      .limit(1);
    const key = {
      idDominio: enteFiscalCode,
      iuv: attempt.iuv as string,
      ccp: attempt.payment_token as string,
    };
    const client = await soap.createClientAsync('wsdl/NodoPerPa.wsdl', {
      endpoint: `${url}/emulator/ws/NodoPerPa`,
      disableCache: true,
    });
    client.addSoapHeader(
      {
        intestazionePPT: {
          identificativoIntermediarioPA: brokerCode,
          identificativoStazioneIntermediarioPA: stationId,
          identificativoDominio: key.idDominio,
          identificativoUnivocoVersamento: key.iuv,
          codiceContestoPagamento: key.ccp,
        },
      },
      '',
      'ppthead',
      PPTHEAD,
    );
    const rpt = rptXml({ ...key, station: stationId, cents: CENTS });
    const [answer] = await client.nodoInviaRPTAsync({
      password: PASSWORD,
      identificativoPSP: psp.identificativoPSP,
      identificativoIntermediarioPSP: psp.identificativoIntermediarioPSP,
      identificativoCanale: psp.identificativoCanalePSP,
      rpt: Buffer.from(rpt).toString('base64'),
    });
    expect(answer).to.include({ esito: 'OK', redirect: '0' });
  }

  const datiPagamentoPA = {
    importoSingoloVersamento: (CENTS / 100).toFixed(2),
    ibanAccredito: TEST_IBAN,
    causaleVersamento: 'Tassa rifiuti 2026',
  };

  function standInBindings(): SoapServiceBinding[] {
    const replaced: Record<string, Record<string, OperationHandler>> = {
      'PaPerNodoPagamentoPsp.wsdl': {
        paaVerificaRPT: async () =>
          standIn.verifyFault
            ? {
                paaVerificaRPTRisposta: {
                  fault: { faultCode: standIn.verifyFault, faultString: 'stand-in', id: enteFiscalCode },
                  esito: 'KO',
                },
              }
            : { paaVerificaRPTRisposta: { esito: 'OK', datiPagamentoPA } },
        paaAttivaRPT: async (args) => {
          if (standIn.sendsRpt) setTimeout(() => void sendRptLikeTheEc(args), 50);
          return { paaAttivaRPTRisposta: { esito: 'OK', datiPagamentoPA } };
        },
      },
      'PaPerNodo.wsdl': {
        paaInviaRT: async (args) => {
          standIn.rts.push(Buffer.from(String(args.rt), 'base64').toString('utf8'));
          return { paaInviaRTRisposta: { esito: 'OK' } };
        },
      },
    };
    return defaultSoapBindings(ctx.store).map((b) =>
      replaced[b.wsdl] ? { ...b, handlers: replaced[b.wsdl]! } : b,
    );
  }

  before(async () => {
    brokerCode = randomEnteFiscalCode();
    stationId = `${brokerCode}_01`;
    const broker = await ctx.store.brokers.create({ fiscalCode: brokerCode, name: 'Broker legacy' });
    const station = await ctx.store.stations.create({
      stationId,
      brokerId: broker.id,
      password: PASSWORD,
      dialect: 'legacy',
    });
    enteFiscalCode = randomEnteFiscalCode();
    await ctx.store.enti.create({
      fiscalCode: enteFiscalCode,
      name: 'Comune legacy',
      stationId: station.id,
      segregationCode: '01',
    });
    const app = await buildApp(
      ctx.db,
      ctx.store,
      { maxBodyBytes: TEST_MAX_BODY_BYTES, emulator: true },
      standInBindings(),
    );
    server = await new Promise((resolve, reject) => {
      const s = app.listen(0, '127.0.0.1');
      s.once('listening', () => resolve(s));
      s.once('error', reject);
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  beforeEach(() => {
    standIn.verifyFault = null;
    standIn.sendsRpt = true;
    standIn.rts = [];
  });

  const notice = (n: number) => buildAux3FromSequence('01', n).noticeNumber;

  it('verifies, activates with a fresh CCP, takes the EC’s PO RPT and pushes a positive RT', async () => {
    const result = await payNotice({
      store: ctx.store,
      connectorUrl: url,
      enteFiscalCode,
      noticeNumber: notice(101),
    });
    expect(result.steps.map((s) => `${s.step} ${s.outcome}`)).to.deep.equal([
      'paaVerificaRPT OK',
      'paaAttivaRPT OK',
      'nodoInviaRPT OK',
      'authorize OK',
      'paaInviaRT OK',
    ]);
    expect(result).to.include({ ok: true, dialect: 'legacy' });
    expect(standIn.rts).to.have.length(1);
    const rt = standIn.rts[0]!;
    expect(schemaFor(RPT_RT_XSD).validateXml(rt)).to.deep.equal({ ok: true });
    if (specAvailable())
      expect(schemaFor(OFFICIAL_DOCUMENTS.rptRt()).validateXml(rt)).to.deep.equal({ ok: true });
    expect(rt).to.contain(
      `<pay_i:CodiceContestoPagamento>${result.paymentToken}</pay_i:CodiceContestoPagamento>`,
    );
    expect(rt).to.contain('<pay_i:codiceEsitoPagamento>0</pay_i:codiceEsitoPagamento>');
    expect(rt).to.contain('<pay_i:importoTotalePagato>50.00</pay_i:importoTotalePagato>');
    const edb = createEmulatorDb(ctx.db);
    expect(await edb.payments.get(result.paymentToken!)).to.include({ status: 'NOTIFIED', kind: 'legacy' });
    const iuv = buildAux3FromSequence('01', 101).iuv;
    const rpt = await edb.rpts.get({ idDominio: enteFiscalCode, iuv, ccp: result.paymentToken! });
    expect(rpt).to.include({ status: 'RT_ACCETTATA_PA', tipoVersamento: 'PO' });
  });

  it('reports PPT_STAZIONE_INT_PA_TIMEOUT at nodoInviaRPT when the EC never sends its RPT', async () => {
    standIn.sendsRpt = false;
    const result = await payNotice({
      store: ctx.store,
      connectorUrl: url,
      enteFiscalCode,
      noticeNumber: notice(102),
      rptWaitMs: 300,
    });
    expect(result.ok).to.equal(false);
    expect(result.steps.at(-1)).to.include({
      step: 'nodoInviaRPT',
      outcome: 'KO',
      faultCode: 'PPT_STAZIONE_INT_PA_TIMEOUT',
    });
    expect(standIn.rts).to.have.length(0);
  });

  it('stops at paaVerificaRPT with the EC’s fault code', async () => {
    standIn.verifyFault = 'PAA_PAGAMENTO_SCONOSCIUTO';
    const result = await payNotice({
      store: ctx.store,
      connectorUrl: url,
      enteFiscalCode,
      noticeNumber: notice(103),
    });
    expect(result.steps.map((s) => `${s.step} ${s.outcome} ${s.faultCode ?? ''}`.trim())).to.deep.equal([
      'paaVerificaRPT KO PAA_PAGAMENTO_SCONOSCIUTO',
    ]);
  });

  it('exchanged only messages valid against our schemas and the official ones', async () => {
    const services = new Map(loadManifest().map((s) => [s.service, s]));
    const rows = await ctx
      .db('events')
      .where({ entity_type: 'soap_message' })
      .select<Array<{ payload: string }>>('payload');
    const seen = new Set<string>();
    for (const row of rows) {
      const message = JSON.parse(row.payload) as { service: string; xml: string };
      const service = services.get(message.service)!;
      const doc = parseUntrusted(message.xml);
      try {
        const { header, payload } = readEnvelope(doc);
        const blocks = [payload];
        for (let node = header?.firstChild ?? null; node; node = node.next)
          if (node instanceof XmlElement) blocks.push(node);
        for (const block of blocks) {
          expect(schemaSetFor(service.schemas).validateNode(block), `ours: ${message.xml}`).to.deep.equal({
            ok: true,
          });
          if (specAvailable()) {
            expect(
              officialValidator(service.wsdl).validateNode(block),
              `official: ${message.xml}`,
            ).to.deep.equal({ ok: true });
          }
        }
        seen.add(payload.name);
      } finally {
        doc.dispose();
      }
    }
    expect([...seen]).to.include.members([
      'paaVerificaRPT',
      'paaVerificaRPTRisposta',
      'paaAttivaRPT',
      'paaAttivaRPTRisposta',
      'nodoInviaRPT',
      'nodoInviaRPTRisposta',
      'paaInviaRT',
      'paaInviaRTRisposta',
    ]);
  });
});
