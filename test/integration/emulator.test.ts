// The pagoPA node emulator's own endpoints on a real server (port 0) over the demo registry, on every
// database of the matrix: nodoInviaRPT / nodoInviaCarrelloRPT (RPT schema, keys, station checks,
// multi-beneficiary rules), stato / copia RT / pending list, reporting flows, the checkout carts API
// and pages, and state that survives a restart of the app. Every node answer is checked against our
// schema and the official one; every RT against ours and the official RPT/RT schema.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import * as soap from 'soap';
import type { Knex } from 'knex';
import { forEachDatabase } from '../support/db.ts';
import {
  OFFICIAL_DOCUMENTS,
  officialValidator,
  specAvailable,
  SPEC_DIR,
} from '../support/officialSchemas.ts';
import { post, TEST_MAX_BODY_BYTES } from '../support/soapServer.ts';
import { buildApp } from '../../src/main.ts';
import { seedDemo } from '../../src/app/seedDemo.ts';
import { createStore, type Store } from '../../src/db/store.ts';
import { loadManifest } from '../../src/soap/manifest.ts';
import { readEnvelope, firstText } from '../../src/soap/envelope.ts';
import { parseUntrusted, schemaFor, schemaSetFor } from '../../src/xml/schema.ts';
import { createEmulatorDb } from '../../src/emulator/db.ts';
import { RPT_RT_XSD } from '../../src/emulator/rpt.ts';

const BROKER = '12345678903';
const STATION = '12345678903_01';
const PASSWORD = 'DemoStation01';
const COMUNE = '01234567897';
const UNIONE = '98765432103';
const PSP = {
  identificativoPSP: 'BCITITMM',
  identificativoIntermediarioPSP: '00799960158',
  identificativoCanale: '00799960158_01',
};
const PPTHEAD = 'http://ws.pagamenti.telematici.gov/ppthead';

interface RptOptions {
  idDominio: string;
  iuv: string;
  ccp: string;
  /** Cents of each datiSingoloVersamento. */
  amounts?: number[];
  tipoVersamento?: string;
  date?: string;
  payer?: string;
}

const euro = (cents: number) => (cents / 100).toFixed(2);

/** An RPT as an EC would write it (valid against the RPT schema unless the test breaks it). */
function rptXml(o: RptOptions): string {
  const amounts = o.amounts ?? [12030];
  const total = amounts.reduce((a, b) => a + b, 0);
  const date = o.date ?? '2026-11-20';
  const versamenti = amounts
    .map(
      (
        a,
        i,
      ) => `<pay_i:datiSingoloVersamento><pay_i:importoSingoloVersamento>${euro(a)}</pay_i:importoSingoloVersamento>
      <pay_i:ibanAccredito>IT92F0306901000100000046001</pay_i:ibanAccredito>
      <pay_i:causaleVersamento>/RFB/${o.iuv}/${euro(a)}/TXT/Quota ${i + 1}</pay_i:causaleVersamento>
      <pay_i:datiSpecificiRiscossione>9/0101101IM/</pay_i:datiSpecificiRiscossione></pay_i:datiSingoloVersamento>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<pay_i:RPT xmlns:pay_i="http://www.digitpa.gov.it/schemas/2011/Pagamenti/">
  <pay_i:versioneOggetto>6.2.0</pay_i:versioneOggetto>
  <pay_i:dominio><pay_i:identificativoDominio>${o.idDominio}</pay_i:identificativoDominio>
    <pay_i:identificativoStazioneRichiedente>${STATION}</pay_i:identificativoStazioneRichiedente></pay_i:dominio>
  <pay_i:identificativoMessaggioRichiesta>MSG${o.ccp.slice(0, 20)}</pay_i:identificativoMessaggioRichiesta>
  <pay_i:dataOraMessaggioRichiesta>${date}T10:00:00</pay_i:dataOraMessaggioRichiesta>
  <pay_i:autenticazioneSoggetto>N/A</pay_i:autenticazioneSoggetto>
  <pay_i:soggettoPagatore><pay_i:identificativoUnivocoPagatore><pay_i:tipoIdentificativoUnivoco>F</pay_i:tipoIdentificativoUnivoco>
    <pay_i:codiceIdentificativoUnivoco>RSSMRA85T10A562S</pay_i:codiceIdentificativoUnivoco></pay_i:identificativoUnivocoPagatore>
    <pay_i:anagraficaPagatore>${o.payer ?? 'Mario Rossi'}</pay_i:anagraficaPagatore></pay_i:soggettoPagatore>
  <pay_i:enteBeneficiario><pay_i:identificativoUnivocoBeneficiario><pay_i:tipoIdentificativoUnivoco>G</pay_i:tipoIdentificativoUnivoco>
    <pay_i:codiceIdentificativoUnivoco>${o.idDominio}</pay_i:codiceIdentificativoUnivoco></pay_i:identificativoUnivocoBeneficiario>
    <pay_i:denominazioneBeneficiario>Ente ${o.idDominio}</pay_i:denominazioneBeneficiario></pay_i:enteBeneficiario>
  <pay_i:datiVersamento>
    <pay_i:dataEsecuzionePagamento>${date}</pay_i:dataEsecuzionePagamento>
    <pay_i:importoTotaleDaVersare>${euro(total)}</pay_i:importoTotaleDaVersare>
    <pay_i:tipoVersamento>${o.tipoVersamento ?? 'BBT'}</pay_i:tipoVersamento>
    <pay_i:identificativoUnivocoVersamento>${o.iuv}</pay_i:identificativoUnivocoVersamento>
    <pay_i:codiceContestoPagamento>${o.ccp}</pay_i:codiceContestoPagamento>
    <pay_i:firmaRicevuta>0</pay_i:firmaRicevuta>${versamenti}
  </pay_i:datiVersamento>
</pay_i:RPT>`;
}

const b64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');

let counter = 0;
/** A fresh RPT key of the Comune: a 17-digit IUV and a CCP unique within the run. */
function freshKey(idDominio = COMUNE) {
  counter += 1;
  const iuv = `01${String(randomInt(0, 1e9)).padStart(9, '0')}${String(counter).padStart(6, '0')}`;
  return { idDominio, iuv, ccp: `CCP-${process.pid}-${counter}` };
}

const nodoPerPa = loadManifest().find((s) => s.wsdl === 'NodoPerPa.wsdl')!;
const nodeForPa = loadManifest().find((s) => s.wsdl === 'nodeForPa.wsdl')!;

/** The answer element of a raw node response, after checking it against our schema and the official one. */
function checkedAnswer(raw: string, wsdl: 'NodoPerPa.wsdl' | 'nodeForPa.wsdl' = 'NodoPerPa.wsdl'): void {
  const doc = parseUntrusted(raw);
  try {
    const { payload } = readEnvelope(doc);
    const ours = schemaSetFor((wsdl === 'NodoPerPa.wsdl' ? nodoPerPa : nodeForPa).schemas).validateNode(
      payload,
    );
    expect(ours, `ours: ${raw}`).to.deep.equal({ ok: true });
    if (specAvailable()) {
      expect(officialValidator(wsdl).validateNode(payload), `official: ${raw}`).to.deep.equal({ ok: true });
    }
  } finally {
    doc.dispose();
  }
}

/** An RT checked against our RPT/RT schema and the official PagInf_RPT_RT_6_2_0.xsd. */
function checkedRt(xml: string): void {
  expect(schemaFor(RPT_RT_XSD).validateXml(xml), xml).to.deep.equal({ ok: true });
  if (specAvailable())
    expect(schemaFor(OFFICIAL_DOCUMENTS.rptRt()).validateXml(xml), xml).to.deep.equal({ ok: true });
}

interface Running {
  url: string;
  close(): Promise<void>;
}

async function startEmulatorServer(db: Knex, store: Store): Promise<Running> {
  const app = await buildApp(db, store, { maxBodyBytes: TEST_MAX_BODY_BYTES, emulator: true });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1');
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

type Answer = Record<string, unknown> & {
  fault?: { faultCode: string; id: string; serial?: string; description?: string };
};

forEachDatabase('pagoPA node emulator: node endpoints, checkout and state', (ctx) => {
  let server: Running;

  before(async () => {
    await seedDemo(ctx.store);
    server = await startEmulatorServer(ctx.db, ctx.store);
  });
  after(() => server?.close());

  async function client(wsdl = 'wsdl/NodoPerPa.wsdl', path = '/emulator/ws/NodoPerPa') {
    return soap.createClientAsync(wsdl, {
      endpoint: `${server.url}${path}`,
      // Parsed with our deserializers (text kept): not shared through node-soap's WSDL cache.
      disableCache: true,
      ...({
        customDeserializer: { int: (t: string) => t, dateTime: (t: string) => t, boolean: (t: string) => t },
      } as object),
    });
  }

  async function call(
    operation: string,
    args: object,
    header?: Record<string, unknown>,
    wsdl?: string,
  ): Promise<Answer> {
    const c = await client(wsdl);
    if (header) c.addSoapHeader(header, '', 'ppthead', PPTHEAD);
    const [answer, raw] = (await (c[`${operation}Async`] as (a: object) => Promise<[Answer, string]>)(
      args,
    )) as [Answer, string];
    checkedAnswer(raw);
    return answer;
  }

  function sendRpt(
    key: ReturnType<typeof freshKey>,
    xml = rptXml(key),
    login = { password: PASSWORD },
    station = STATION,
  ) {
    return call(
      'nodoInviaRPT',
      { password: login.password, ...PSP, rpt: b64(xml) },
      {
        intestazionePPT: {
          identificativoIntermediarioPA: BROKER,
          identificativoStazioneIntermediarioPA: station,
          identificativoDominio: key.idDominio,
          identificativoUnivocoVersamento: key.iuv,
          codiceContestoPagamento: key.ccp,
        },
      },
    );
  }

  function sendCart(
    cartId: string,
    rpts: Array<{ key: ReturnType<typeof freshKey>; xml?: string }>,
    multi?: boolean,
  ) {
    return call(
      'nodoInviaCarrelloRPT',
      {
        password: PASSWORD,
        ...PSP,
        listaRPT: {
          elementoListaRPT: rpts.map(({ key, xml }) => ({
            identificativoDominio: key.idDominio,
            identificativoUnivocoVersamento: key.iuv,
            codiceContestoPagamento: key.ccp,
            rpt: b64(xml ?? rptXml(key)),
          })),
        },
        ...(multi ? { multiBeneficiario: true } : {}),
      },
      {
        intestazioneCarrelloPPT: {
          identificativoIntermediarioPA: BROKER,
          identificativoStazioneIntermediarioPA: STATION,
          identificativoCarrello: cartId,
        },
      },
    );
  }

  const login = {
    identificativoIntermediarioPA: BROKER,
    identificativoStazioneIntermediarioPA: STATION,
    password: PASSWORD,
  };
  const lookup = (key: ReturnType<typeof freshKey>) => ({
    ...login,
    identificativoDominio: key.idDominio,
    identificativoUnivocoVersamento: key.iuv,
    codiceContestoPagamento: key.ccp,
  });

  async function pageOf(url: string): Promise<{ status: number; html: string }> {
    const res = await fetch(url);
    return { status: res.status, html: await res.text() };
  }

  describe('nodoInviaRPT', () => {
    it('accepts a valid RPT and answers esito OK with the URL of its checkout page', async () => {
      const key = freshKey();
      const answer = await sendRpt(key);
      expect(answer.fault).to.equal(undefined);
      expect(answer).to.include({ esito: 'OK', redirect: '1' });
      expect(answer.url).to.match(new RegExp(`^${server.url}/emulator/checkout/rpt-[0-9a-f-]{36}$`));
      const page = await pageOf(String(answer.url));
      expect(page.status).to.equal(200);
      expect(page.html).to.contain(key.iuv).and.contain('BCITITMM').and.contain('€ 120.30');
    });

    it('is callable by a node-soap client built from the official NodoPerPa.wsdl', async function () {
      if (!specAvailable()) this.skip();
      const key = freshKey();
      const answer = await call(
        'nodoInviaRPT',
        { password: PASSWORD, ...PSP, rpt: b64(rptXml(key)) },
        {
          intestazionePPT: {
            identificativoIntermediarioPA: BROKER,
            identificativoStazioneIntermediarioPA: STATION,
            identificativoDominio: key.idDominio,
            identificativoUnivocoVersamento: key.iuv,
            codiceContestoPagamento: key.ccp,
          },
        },
        `${SPEC_DIR}/legacy/wsdl/NodoPerPa.wsdl`,
      );
      expect(answer).to.include({ esito: 'OK' });
    });

    it('answers PPT_SINTASSI_XSD for an RPT that breaks the RPT schema, and stores nothing', async () => {
      const key = freshKey();
      const broken = rptXml(key).replace('<pay_i:firmaRicevuta>0</pay_i:firmaRicevuta>', '');
      const answer = await sendRpt(key, broken);
      expect(answer.esito).to.equal('KO');
      expect(answer.fault).to.include({ faultCode: 'PPT_SINTASSI_XSD', id: 'NodoDeiPagamentiSPC' });
      expect(await createEmulatorDb(ctx.db).rpts.get(key)).to.equal(null);
      const notXml = await sendRpt(freshKey(), 'this is not an RPT');
      expect(notXml.fault?.faultCode).to.equal('PPT_SINTASSI_XSD');
    });

    it('answers PPT_SEMANTICA when the RPT does not carry the key of intestazionePPT', async () => {
      const key = freshKey();
      const answer = await sendRpt(key, rptXml({ ...key, ccp: 'another-ccp' }));
      expect(answer.fault?.faultCode).to.equal('PPT_SEMANTICA');
    });

    it('answers PPT_RPT_DUPLICATA for a second RPT with the same (idDominio, IUV, CCP)', async () => {
      const key = freshKey();
      expect((await sendRpt(key)).esito).to.equal('OK');
      const again = await sendRpt(key);
      expect(again.esito).to.equal('KO');
      expect(again.fault?.faultCode).to.equal('PPT_RPT_DUPLICATA');
    });

    it('checks the station, its password, the EC and the PSP route', async () => {
      expect((await sendRpt(freshKey(), undefined, { password: 'wrong-pass' })).fault?.faultCode).to.equal(
        'PPT_AUTENTICAZIONE',
      );
      expect((await sendRpt(freshKey(), undefined, undefined, '99999999999_01')).fault?.faultCode).to.equal(
        'PPT_STAZIONE_INT_PA_SCONOSCIUTA',
      );
      expect((await sendRpt(freshKey('11111111115'))).fault?.faultCode).to.equal('PPT_DOMINIO_SCONOSCIUTO');
      const key = freshKey();
      const unknownPsp = await call(
        'nodoInviaRPT',
        { password: PASSWORD, ...PSP, identificativoPSP: 'NOSUCHPSP', rpt: b64(rptXml(key)) },
        {
          intestazionePPT: {
            identificativoIntermediarioPA: BROKER,
            identificativoStazioneIntermediarioPA: STATION,
            identificativoDominio: key.idDominio,
            identificativoUnivocoVersamento: key.iuv,
            codiceContestoPagamento: key.ccp,
          },
        },
      );
      expect(unknownPsp.fault?.faultCode).to.equal('PPT_PSP_SCONOSCIUTO');
    });

    it('answers PPT_SINTASSI_EXTRAXSD, as a schema-valid KO, for a body that breaks the schema', async () => {
      const key = freshKey();
      const xml = `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:ppt="http://ws.pagamenti.telematici.gov/" xmlns:ppthead="${PPTHEAD}">
        <soapenv:Header><ppthead:intestazionePPT><identificativoIntermediarioPA>${BROKER}</identificativoIntermediarioPA>
        <identificativoStazioneIntermediarioPA>${STATION}</identificativoStazioneIntermediarioPA><identificativoDominio>${COMUNE}</identificativoDominio>
        <identificativoUnivocoVersamento>${key.iuv}</identificativoUnivocoVersamento><codiceContestoPagamento>${key.ccp}</codiceContestoPagamento>
        </ppthead:intestazionePPT></soapenv:Header>
        <soapenv:Body><ppt:nodoInviaRPT><password>short</password><identificativoPSP>BCITITMM</identificativoPSP>
        <identificativoIntermediarioPSP>00799960158</identificativoIntermediarioPSP><identificativoCanale>00799960158_01</identificativoCanale>
        <rpt>${b64(rptXml(key))}</rpt></ppt:nodoInviaRPT></soapenv:Body></soapenv:Envelope>`;
      const res = await post(`${server.url}/emulator/ws/NodoPerPa`, xml, { SOAPAction: 'nodoInviaRPT' });
      expect(res.status).to.equal(200);
      checkedAnswer(res.text);
      expect(res.text)
        .to.contain('<faultCode>PPT_SINTASSI_EXTRAXSD</faultCode>')
        .and.contain('<esito>KO</esito>');
      expect(res.text).to.contain('<id>NodoDeiPagamentiSPC</id>');
    });
  });

  describe('nodoChiediStatoRPT, nodoChiediCopiaRT, nodoChiediListaPendentiRPT', () => {
    it('tells the state of an RPT with its history, and PPT_RPT_SCONOSCIUTA for an unknown one', async () => {
      const key = freshKey();
      const sent = await sendRpt(key);
      const stato = await call('nodoChiediStatoRPT', lookup(key));
      const esito = stato.esito as {
        stato: string;
        redirect: string;
        url: string;
        elementoStoricoRPT: unknown;
      };
      expect(esito).to.include({ stato: 'RPT_ACCETTATA_NODO', redirect: '1', url: sent.url });
      const history = [esito.elementoStoricoRPT].flat() as Array<{ stato: string }>;
      expect(history.map((h) => h.stato)).to.deep.equal(['RPT_RICEVUTA_NODO', 'RPT_ACCETTATA_NODO']);
      const unknown = await call('nodoChiediStatoRPT', lookup(freshKey()));
      expect(unknown.fault?.faultCode).to.equal('PPT_RPT_SCONOSCIUTA');
    });

    it('gives no RT before the payment ends (PPT_RT_NONDISPONIBILE), none for an unknown RPT (PPT_RT_SCONOSCIUTA)', async () => {
      const key = freshKey();
      await sendRpt(key);
      expect((await call('nodoChiediCopiaRT', lookup(key))).fault?.faultCode).to.equal(
        'PPT_RT_NONDISPONIBILE',
      );
      expect((await call('nodoChiediCopiaRT', lookup(freshKey()))).fault?.faultCode).to.equal(
        'PPT_RT_SCONOSCIUTA',
      );
    });

    it('lists the RPTs still waiting for an RT, of the station and of one EC', async () => {
      const key = freshKey();
      await sendRpt(key);
      const answer = await call('nodoChiediListaPendentiRPT', {
        ...login,
        identificativoDominio: COMUNE,
        dimensioneLista: 1000,
      });
      const list = answer.listaRPTPendenti as { totRestituiti: string; rptPendente: unknown };
      const pending = [list.rptPendente].flat() as Array<{ codiceContestoPagamento: string; stato: string }>;
      expect(Number(list.totRestituiti)).to.equal(pending.length);
      expect(pending.find((p) => p.codiceContestoPagamento === key.ccp)).to.deep.include({
        stato: 'RPT_ACCETTATA_NODO',
      });
      const one = await call('nodoChiediListaPendentiRPT', { ...login, dimensioneLista: 1 });
      expect(Number((one.listaRPTPendenti as { totRestituiti: string }).totRestituiti)).to.equal(1);
    });

    it('closes an abandoned RPT with a negative RT that nodoChiediCopiaRT returns, and redirects to the outcome page', async () => {
      const key = freshKey();
      const sent = await sendRpt(key);
      const res = await fetch(`${String(sent.url)}/cancel`, { method: 'POST', redirect: 'manual' });
      expect(res.status).to.equal(303);
      const location = res.headers.get('location') ?? '';
      expect(location).to.match(/\/emulator\/checkout\/rpt-[0-9a-f-]+\/outcome$/);
      expect((await pageOf(`${server.url}${location}`)).html).to.contain('data-status="CANCELLED"');
      const copy = await call('nodoChiediCopiaRT', lookup(key));
      expect(copy.fault).to.equal(undefined);
      const rt = Buffer.from(String(copy.rt), 'base64').toString('utf8');
      checkedRt(rt);
      const doc = parseUntrusted(rt);
      try {
        expect(firstText(doc.root, 'codiceEsitoPagamento')).to.equal('1');
        expect(firstText(doc.root, 'importoTotalePagato')).to.equal('0.00');
        expect(firstText(doc.root, 'CodiceContestoPagamento')).to.equal(key.ccp);
      } finally {
        doc.dispose();
      }
    });

    it('pays an RPT on its checkout page with a positive RT per versamento and returns to the station redirect URL', async () => {
      await createEmulatorDb(ctx.db).stations.update(STATION, {
        redirectUrl: 'https://ente.example.org/esito?lang=it',
      });
      try {
        const key = freshKey();
        const sent = await sendRpt(key, rptXml({ ...key, amounts: [1000, 2050] }));
        const res = await fetch(`${String(sent.url)}/pay`, {
          method: 'POST',
          body: new URLSearchParams({ psp: 'UNCRITMM' }),
          redirect: 'manual',
        });
        expect(res.status).to.equal(303);
        const location = new URL(res.headers.get('location') ?? '');
        expect(location.origin + location.pathname).to.equal('https://ente.example.org/esito');
        expect(Object.fromEntries(location.searchParams)).to.deep.include({
          lang: 'it',
          idDominio: COMUNE,
          esito: 'OK',
        });
        const rt = Buffer.from(String((await call('nodoChiediCopiaRT', lookup(key))).rt), 'base64').toString(
          'utf8',
        );
        checkedRt(rt);
        expect(rt).to.contain('<pay_i:codiceEsitoPagamento>0</pay_i:codiceEsitoPagamento>');
        expect(rt).to.contain('<pay_i:importoTotalePagato>30.50</pay_i:importoTotalePagato>');
        expect(rt.match(/<pay_i:identificativoUnivocoRiscossione>/g)).to.have.length(2);
        expect(rt).to.contain(
          '<pay_i:codiceIdentificativoUnivoco>UNCRITMM</pay_i:codiceIdentificativoUnivoco>',
        );
        // Paid is paid: the page now only shows the state, and a second Pay changes nothing.
        const again = await fetch(`${String(sent.url)}/pay`, {
          method: 'POST',
          body: new URLSearchParams({ psp: 'BCITITMM' }),
          redirect: 'manual',
        });
        expect(again.status).to.equal(303);
        expect((await pageOf(String(sent.url))).html)
          .to.contain('data-status="PAID"')
          .and.not.contain('<form');
      } finally {
        await createEmulatorDb(ctx.db).stations.update(STATION, { redirectUrl: null });
      }
    });
  });

  describe('nodoInviaCarrelloRPT', () => {
    const cartId = () => `2026${COMUNE}00${String(randomInt(0, 1e9)).padStart(18, '0')}`.slice(0, 35);

    it('accepts a cart of RPTs of the station and answers the URL of one checkout page', async () => {
      const id = cartId();
      const [a, b] = [freshKey(), freshKey(UNIONE)];
      const answer = await sendCart(id, [{ key: a }, { key: b }]);
      expect(answer.fault).to.equal(undefined);
      expect(answer.esitoComplessivoOperazione).to.equal('OK');
      expect(answer.url).to.equal(`${server.url}/emulator/checkout/${id}`);
      const page = await pageOf(String(answer.url));
      expect(page.html).to.contain(a.iuv).and.contain(b.iuv).and.contain('€ 240.60');
    });

    it('answers PPT_ID_CARRELLO_DUPLICATO when the cart id was used before', async () => {
      const id = cartId();
      expect((await sendCart(id, [{ key: freshKey() }])).esitoComplessivoOperazione).to.equal('OK');
      const again = await sendCart(id, [{ key: freshKey() }]);
      expect(again.esitoComplessivoOperazione).to.equal('KO');
      expect(again.fault?.faultCode).to.equal('PPT_ID_CARRELLO_DUPLICATO');
    });

    it('lists each rejected RPT with its position as serial, and then stores none of the cart', async () => {
      const good = freshKey();
      const bad = freshKey();
      const answer = await sendCart(cartId(), [
        { key: good },
        { key: bad, xml: rptXml(bad).replace('<pay_i:firmaRicevuta>0</pay_i:firmaRicevuta>', '') },
      ]);
      expect(answer.esitoComplessivoOperazione).to.equal('KO');
      const errors = [(answer.listaErroriRPT as { fault: unknown }).fault].flat() as Array<{
        faultCode: string;
        serial: string;
      }>;
      expect(errors).to.have.length(1);
      expect(errors[0]).to.include({ faultCode: 'PPT_SINTASSI_XSD', serial: '2' });
      expect((await call('nodoChiediStatoRPT', lookup(good))).fault?.faultCode).to.equal(
        'PPT_RPT_SCONOSCIUTA',
      );
    });

    describe('multi-beneficiary (multiBeneficiario = true)', () => {
      /** A valid multi-beneficiary pair: same IUV, primary Comune first, Unione second with one versamento. */
      function pair() {
        const iuv = freshKey().iuv;
        const id = `${COMUNE}3${iuv}-${String(randomInt(0, 99999)).padStart(5, '0')}`;
        return {
          id,
          primary: { idDominio: COMUNE, iuv, ccp: id },
          secondary: { idDominio: UNIONE, iuv, ccp: id },
        };
      }

      it('accepts exactly two RPTs of one debt position, primary EC first', async () => {
        const { id, primary, secondary } = pair();
        const answer = await sendCart(
          id,
          [
            { key: primary, xml: rptXml({ ...primary, amounts: [7000, 500] }) },
            { key: secondary, xml: rptXml({ ...secondary, amounts: [3000] }) },
          ],
          true,
        );
        expect(answer.fault).to.equal(undefined);
        expect(answer.esitoComplessivoOperazione).to.equal('OK');
      });

      it('refuses a cart that is not exactly two RPTs', async () => {
        const { id, primary, secondary } = pair();
        const third = {
          idDominio: UNIONE,
          iuv: primary.iuv,
          ccp: `third-${process.pid}-${randomInt(0, 1e9)}`,
        };
        const answer = await sendCart(id, [{ key: primary }, { key: secondary }, { key: third }], true);
        expect(answer.esitoComplessivoOperazione).to.equal('KO');
        expect(answer.fault?.faultCode).to.equal('PPT_SEMANTICA');
        const one = pair();
        expect((await sendCart(one.id, [{ key: one.primary }], true)).fault?.faultCode).to.equal(
          'PPT_SEMANTICA',
        );
      });

      it('refuses two RPTs with different IUVs, a bad cart id, or a secondary RPT with two versamenti', async () => {
        const p = pair();
        const otherIuv = { ...p.secondary, iuv: freshKey().iuv };
        expect(
          (await sendCart(p.id, [{ key: p.primary }, { key: otherIuv }], true)).fault?.faultCode,
        ).to.equal('PPT_SEMANTICA');
        const q = pair();
        const badId = `X${q.id.slice(1)}`;
        const answer = await sendCart(
          badId,
          [{ key: { ...q.primary, ccp: badId } }, { key: { ...q.secondary, ccp: badId } }],
          true,
        );
        expect(answer.fault?.faultCode).to.equal('PPT_SEMANTICA');
        const r = pair();
        const two = await sendCart(
          r.id,
          [{ key: r.primary }, { key: r.secondary, xml: rptXml({ ...r.secondary, amounts: [100, 200] }) }],
          true,
        );
        expect(two.fault?.faultCode).to.equal('PPT_SEMANTICA');
      });
    });
  });

  describe('reporting flows', () => {
    for (const [wsdl, path] of [
      ['wsdl/NodoPerPa.wsdl', '/emulator/ws/NodoPerPa'],
      ['wsdl/nodeForPa.wsdl', '/emulator/ws/nodeForPa'],
    ] as const) {
      it(`${path}: lists no flows yet and answers PPT_ID_FLUSSO_SCONOSCIUTO for any flow id`, async () => {
        const c = await client(wsdl, path);
        const kind = wsdl.includes('nodeForPa') ? 'nodeForPa.wsdl' : 'NodoPerPa.wsdl';
        const [list, rawList] = (await c.nodoChiediElencoFlussiRendicontazioneAsync({
          ...login,
          identificativoDominio: COMUNE,
        })) as [Answer, string];
        checkedAnswer(rawList, kind);
        expect(list.elencoFlussiRendicontazione).to.deep.equal({ totRestituiti: '0' });
        const [flow, rawFlow] = (await c.nodoChiediFlussoRendicontazioneAsync({
          ...login,
          identificativoFlusso: '2026-11-20BCITITMM-0000000001',
        })) as [Answer, string];
        checkedAnswer(rawFlow, kind);
        expect(flow.fault?.faultCode).to.equal('PPT_ID_FLUSSO_SCONOSCIUTO');
        const [denied] = (await c.nodoChiediElencoFlussiRendicontazioneAsync({
          ...login,
          password: 'wrong-pass',
        })) as [Answer];
        expect(denied.fault?.faultCode).to.equal('PPT_AUTENTICAZIONE');
      });
    }
  });

  describe('checkout carts API', () => {
    const body = (extra: object = {}) => ({
      paymentNotices: [
        {
          noticeNumber: '301000000000000144',
          fiscalCode: COMUNE,
          amount: 12030,
          companyName: 'Comune <script>alert(1)</script>',
          description: 'TARI "2026"',
        },
      ],
      returnUrls: {
        returnOkUrl: 'https://gestionale.example.org/ok',
        returnCancelUrl: 'https://gestionale.example.org/cancel',
        returnErrorUrl: 'https://gestionale.example.org/error',
      },
      ...extra,
    });
    const postCart = (payload: unknown) =>
      fetch(`${server.url}/emulator/checkout/carts`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(payload),
        redirect: 'manual',
      });

    it('answers 302 to the cart page, with the same URL in JSON, and renders it escaped', async () => {
      const res = await postCart(body());
      expect(res.status).to.equal(302);
      const json = (await res.json()) as { cartId: string; checkoutUrl: string };
      expect(res.headers.get('location')).to.equal(json.checkoutUrl);
      expect(json.checkoutUrl).to.equal(`${server.url}/emulator/checkout/${json.cartId}`);
      const page = await pageOf(json.checkoutUrl);
      expect(page.status).to.equal(200);
      expect(page.html)
        .to.contain('Comune &lt;script&gt;alert(1)&lt;/script&gt;')
        .and.not.contain('<script>');
      expect(page.html).to.contain('TARI &quot;2026&quot;').and.contain('301000000000000144');
      expect(page.html)
        .to.contain('name="psp" value="BCITITMM"')
        .and.contain('id="pay"')
        .and.contain('id="cancel"');
    });

    it('keeps the idCart it is given and refuses it a second time with 409', async () => {
      const idCart = `cart-${process.pid}-${randomInt(0, 1e9)}`;
      const first = await postCart(body({ idCart }));
      expect(first.status).to.equal(302);
      expect(first.headers.get('location')).to.equal(`${server.url}/emulator/checkout/${idCart}`);
      const second = await postCart(body({ idCart }));
      expect(second.status).to.equal(409);
      expect(((await second.json()) as { title: string }).title).to.equal('PPT_ID_CARRELLO_DUPLICATO');
    });

    it('refuses with 400 no notices, six notices, a bad notice number, a javascript: return URL and non-JSON', async () => {
      const notice = body().paymentNotices[0];
      for (const payload of [
        body({ paymentNotices: [] }),
        body({ paymentNotices: Array.from({ length: 6 }, () => notice) }),
        body({ paymentNotices: [{ ...notice, noticeNumber: '12345' }] }),
        body({ returnUrls: { ...body().returnUrls, returnOkUrl: 'javascript:alert(1)' } }),
      ]) {
        const res = await postCart(payload);
        expect(res.status, JSON.stringify(payload)).to.equal(400);
      }
      const notJson = await fetch(`${server.url}/emulator/checkout/carts`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"paymentNotices":',
      });
      expect(notJson.status).to.equal(400);
    });

    it('cancels a checkout cart without calling the EC and redirects to the cancel URL', async () => {
      const { checkoutUrl } = (await (await postCart(body())).json()) as { checkoutUrl: string };
      const res = await fetch(`${checkoutUrl}/cancel`, { method: 'POST', redirect: 'manual' });
      expect(res.status).to.equal(303);
      expect(res.headers.get('location')).to.equal('https://gestionale.example.org/cancel');
      expect((await pageOf(checkoutUrl)).html).to.contain('data-status="CANCELLED"');
    });

    it('answers 404 for an unknown cart', async () => {
      expect((await pageOf(`${server.url}/emulator/checkout/no-such-cart`)).status).to.equal(404);
    });
  });

  describe('state across a restart', () => {
    it('keeps RPTs, carts and PSPs when the app restarts on the same database', async () => {
      const key = freshKey();
      const sent = await sendRpt(key);
      const { checkoutUrl } = (await (
        await fetch(`${server.url}/emulator/checkout/carts`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({
            paymentNotices: [
              {
                noticeNumber: '301000000000000245',
                fiscalCode: COMUNE,
                amount: 8750,
                companyName: 'Comune',
                description: 'TARI',
              },
            ],
            returnUrls: {
              returnOkUrl: 'https://x.example/ok',
              returnCancelUrl: 'https://x.example/c',
              returnErrorUrl: 'https://x.example/e',
            },
          }),
          redirect: 'manual',
        })
      ).json()) as { checkoutUrl: string };
      await server.close();

      const db = ctx.connect();
      server = await startEmulatorServer(db, createStore(db));
      const stato = await call('nodoChiediStatoRPT', lookup(key));
      expect((stato.esito as { stato: string }).stato).to.equal('RPT_ACCETTATA_NODO');
      const rptPage = await pageOf(String(sent.url).replace(/^http:\/\/[^/]+/, server.url));
      expect(rptPage.status).to.equal(200);
      expect(rptPage.html).to.contain(key.iuv);
      const cartPage = await pageOf(checkoutUrl.replace(/^http:\/\/[^/]+/, server.url));
      expect(cartPage.status).to.equal(200);
      expect(cartPage.html).to.contain('301000000000000245');
      const [psps] = await db('emulator_psps').count<{ n: number | string }[]>({ n: '*' });
      expect(Number(psps?.n)).to.equal(4);
    });
  });
});
