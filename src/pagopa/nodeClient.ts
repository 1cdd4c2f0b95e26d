// The connector's calls to the pagoPA node (legacy NodoPerPa, pagopa-facts §4, and the checkout cart
// of the current model). Requests are written with the escaping XML writer and validated against
// our schemas before they leave; answers are validated before they are read. Every call has a
// timeout and is recorded in the event log with its answer or its failure.

import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { XmlElement } from 'libxml2-wasm';
import { domainError } from '../domain/errors.ts';
import type { Store } from '../db/store.ts';
import { el, leaf, type XmlNode } from '../xml/build.ts';
import { XSD_DIR } from '../xml/paths.ts';
import { parseUntrusted, schemaSetFor } from '../xml/schema.ts';
import { envelope, firstText, readEnvelope } from '../soap/envelope.ts';
import { logMessage } from '../soap/messageLog.ts';

const PPT_NS = 'http://ws.pagamenti.telematici.gov/';
const HEAD_NS = 'http://ws.pagamenti.telematici.gov/ppthead';
const NODO_PER_PA = schemaSetFor([
  { namespace: PPT_NS, file: path.join(XSD_DIR, 'pagopa/legacy/nodoPerPa.xsd') },
]);

export interface NodeClientOptions {
  /** Base URL of the node: its SOAP services are `<base>/ws/NodoPerPa`, its checkout `<base>/checkout`. */
  baseUrl: string;
  timeoutMs: number;
  store: Store;
}

export interface StationCredentials {
  brokerFiscalCode: string;
  stationId: string;
  password: string;
}

export interface PspRoute {
  idPSP: string;
  idBrokerPSP: string;
  idChannel: string;
}

export interface RptKey {
  enteFiscalCode: string;
  iuv: string;
  ccp: string;
}

export interface NodeFault {
  faultCode: string;
  faultString: string;
  description: string | null;
}

export interface InviaRptAnswer {
  ok: boolean;
  url: string | null;
  fault: NodeFault | null;
}

export interface CartAnswer {
  ok: boolean;
  url: string | null;
  fault: NodeFault | null;
}

export interface StatoRptAnswer {
  status: string | null;
  url: string | null;
  fault: NodeFault | null;
}

export interface CopiaRtAnswer {
  /** The RT document, decoded from base64; null with a fault when the node has none. */
  rt: string | null;
  fault: NodeFault | null;
}

/** Narrows a reporting-flow request to one EC and / or one PSP. */
export interface FlowFilter {
  idDominio?: string | null;
  idPsp?: string | null;
}

/** One entry of nodoChiediElencoFlussiRendicontazione: a flow id and the revision's date-time. */
export interface FlowListEntry {
  flowId: string;
  /** dataOraFlusso as written. */
  flowDateTime: string;
}

export interface FlowListAnswer {
  flows: FlowListEntry[];
  fault: NodeFault | null;
}

export interface FlowAnswer {
  /** The FlussoRiversamento document, decoded from base64; null with a fault when the node has none. */
  xml: string | null;
  fault: NodeFault | null;
}

export interface CheckoutNotice {
  noticeNumber: string;
  fiscalCode: string;
  amountCents: number;
  companyName: string;
  description: string;
}

/** The node did not answer in time or answered something that is not a valid SOAP message. */
export class NodeUnavailable extends Error {
  constructor(
    readonly operation: string,
    readonly reason: string,
  ) {
    super(`${operation}: node unavailable (${reason})`);
  }
}

function stationLogin(station: StationCredentials): XmlNode[] {
  return [
    el('identificativoIntermediarioPA', null, station.brokerFiscalCode),
    el('identificativoStazioneIntermediarioPA', null, station.stationId),
    el('password', null, station.password),
  ];
}

function rptKey(key: RptKey): XmlNode[] {
  return [
    el('identificativoDominio', null, key.enteFiscalCode),
    el('identificativoUnivocoVersamento', null, key.iuv),
    el('codiceContestoPagamento', null, key.ccp),
  ];
}

function pspRoute(psp: PspRoute): XmlNode[] {
  return [
    el('identificativoPSP', null, psp.idPSP),
    el('identificativoIntermediarioPSP', null, psp.idBrokerPSP),
    el('identificativoCanale', null, psp.idChannel),
  ];
}

function flowFilter(filter: FlowFilter): XmlNode[] {
  return [
    filter.idDominio ? el('identificativoDominio', null, filter.idDominio) : null,
    filter.idPsp ? el('identificativoPSP', null, filter.idPsp) : null,
  ].filter((n): n is XmlNode => n !== null);
}

function childElements(parent: XmlElement | null, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  for (let node = parent?.firstChild ?? null; node; node = node.next) {
    if (node instanceof XmlElement && node.name === name) found.push(node);
  }
  return found;
}

/** The idRendicontazione entries of an answer (a nil entry, allowed by the schema, is skipped). */
function flowListOf(answer: XmlElement): FlowListEntry[] {
  const list = childElements(answer, 'elencoFlussiRendicontazione')[0] ?? null;
  return childElements(list, 'idRendicontazione').flatMap((entry) => {
    const flowId = firstText(entry, 'identificativoFlusso');
    const flowDateTime = firstText(entry, 'dataOraFlusso');
    return flowId && flowDateTime ? [{ flowId, flowDateTime }] : [];
  });
}

function faultOf(answer: XmlElement): NodeFault | null {
  const code = firstText(answer, 'faultCode');
  if (!code) return null;
  return {
    faultCode: code,
    faultString: firstText(answer, 'faultString') ?? '',
    description: firstText(answer, 'description'),
  };
}

export class NodeClient {
  constructor(private readonly options: NodeClientOptions) {}

  /** Posts one NodoPerPa operation and hands the validated answer element to `read`. */
  private async call<T>(
    operation: string,
    body: XmlNode,
    header: XmlNode | null,
    read: (answer: XmlElement) => T,
  ): Promise<T> {
    const correlationId = randomUUID();
    const xml = envelope(body, header);
    const request = parseUntrusted(xml);
    try {
      const { payload } = readEnvelope(request);
      const verdict = NODO_PER_PA.validateNode(payload);
      if (!verdict.ok) {
        throw new Error(
          `${operation}: the request we built breaks the schema: ${verdict.violations[0]?.message ?? ''}`,
        );
      }
    } finally {
      request.dispose();
    }
    const log = (direction: 'request' | 'response' | 'fault', text: string, httpStatus?: number) =>
      logMessage(this.options.store, {
        correlationId,
        direction,
        service: 'NodoPerPa',
        operation,
        xml: text,
        httpStatus,
        actor: 'node-client',
      });
    await log('request', xml);
    let responseText: string;
    let status: number;
    try {
      const res = await fetch(`${this.options.baseUrl}/ws/NodoPerPa`, {
        method: 'POST',
        headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${operation}"` },
        body: xml,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      status = res.status;
      responseText = await res.text();
    } catch (err) {
      const reason =
        err instanceof Error && err.name === 'TimeoutError'
          ? `no answer in ${this.options.timeoutMs} ms`
          : 'connection failed';
      await log('fault', reason);
      throw new NodeUnavailable(operation, reason);
    }
    await log(status === 200 ? 'response' : 'fault', responseText, status);
    let doc;
    try {
      doc = parseUntrusted(responseText);
    } catch {
      throw new NodeUnavailable(operation, `HTTP ${status}, not XML`);
    }
    try {
      const { payload } = readEnvelope(doc);
      if (payload.name === 'Fault')
        throw new NodeUnavailable(operation, `SOAP Fault ${firstText(payload, 'faultcode') ?? ''}`);
      const verdict = NODO_PER_PA.validateNode(payload);
      if (!verdict.ok)
        throw new NodeUnavailable(operation, `invalid answer: ${verdict.violations[0]?.message ?? ''}`);
      return read(payload);
    } catch (err) {
      if (err instanceof NodeUnavailable) throw err;
      throw new NodeUnavailable(operation, 'unreadable answer');
    } finally {
      doc.dispose();
    }
  }

  nodoInviaRPT(
    station: StationCredentials,
    key: RptKey,
    psp: PspRoute,
    rpt: string,
  ): Promise<InviaRptAnswer> {
    const header = el(
      'ppthead:intestazionePPT',
      { 'xmlns:ppthead': HEAD_NS },
      el('identificativoIntermediarioPA', null, station.brokerFiscalCode),
      el('identificativoStazioneIntermediarioPA', null, station.stationId),
      ...rptKey(key),
    );
    const body = el(
      'ppt:nodoInviaRPT',
      { 'xmlns:ppt': PPT_NS },
      el('password', null, station.password),
      ...pspRoute(psp),
      el('tipoFirma', null, ''),
      el('rpt', null, Buffer.from(rpt, 'utf8').toString('base64')),
    );
    return this.call('nodoInviaRPT', body, header, (answer) => ({
      ok: firstText(answer, 'esito') === 'OK',
      url: firstText(answer, 'url'),
      fault: faultOf(answer),
    }));
  }

  /** A cart of 1–5 RPTs; `multiBeneficiario` for the two RPTs of one multi-beneficiary position. */
  nodoInviaCarrelloRPT(
    station: StationCredentials,
    cartId: string,
    psp: PspRoute,
    rpts: Array<RptKey & { rpt: string }>,
    multiBeneficiario = false,
  ): Promise<CartAnswer> {
    if (rpts.length < 1 || rpts.length > 5) {
      throw domainError('INVALID_INPUT', 'a cart holds 1 to 5 RPTs', { field: 'listaRPT' });
    }
    const header = el(
      'ppthead:intestazioneCarrelloPPT',
      { 'xmlns:ppthead': HEAD_NS },
      el('identificativoIntermediarioPA', null, station.brokerFiscalCode),
      el('identificativoStazioneIntermediarioPA', null, station.stationId),
      el('identificativoCarrello', null, cartId),
    );
    const body = el(
      'ppt:nodoInviaCarrelloRPT',
      { 'xmlns:ppt': PPT_NS },
      el('password', null, station.password),
      ...pspRoute(psp),
      el(
        'listaRPT',
        null,
        ...rpts.map((r) =>
          el(
            'elementoListaRPT',
            null,
            ...rptKey(r),
            el('rpt', null, Buffer.from(r.rpt, 'utf8').toString('base64')),
          ),
        ),
      ),
      multiBeneficiario ? leaf('multiBeneficiario', 'true') : null,
    );
    return this.call('nodoInviaCarrelloRPT', body, header, (answer) => ({
      ok: firstText(answer, 'esitoComplessivoOperazione') === 'OK',
      url: firstText(answer, 'url'),
      fault: faultOf(answer),
    }));
  }

  nodoChiediStatoRPT(station: StationCredentials, key: RptKey): Promise<StatoRptAnswer> {
    const body = el(
      'ppt:nodoChiediStatoRPT',
      { 'xmlns:ppt': PPT_NS },
      ...stationLogin(station),
      ...rptKey(key),
    );
    return this.call('nodoChiediStatoRPT', body, null, (answer) => ({
      status: firstText(answer, 'stato'),
      url: firstText(answer, 'url'),
      fault: faultOf(answer),
    }));
  }

  nodoChiediCopiaRT(station: StationCredentials, key: RptKey): Promise<CopiaRtAnswer> {
    const body = el(
      'ppt:nodoChiediCopiaRT',
      { 'xmlns:ppt': PPT_NS },
      ...stationLogin(station),
      ...rptKey(key),
    );
    return this.call('nodoChiediCopiaRT', body, null, (answer) => {
      const rt = firstText(answer, 'rt');
      return { rt: rt ? Buffer.from(rt, 'base64').toString('utf8') : null, fault: faultOf(answer) };
    });
  }

  /** The reporting flows the node holds for the station, optionally for one EC and / or one PSP. */
  nodoChiediElencoFlussiRendicontazione(
    station: StationCredentials,
    filter: FlowFilter = {},
  ): Promise<FlowListAnswer> {
    const body = el(
      'ppt:nodoChiediElencoFlussiRendicontazione',
      { 'xmlns:ppt': PPT_NS },
      ...stationLogin(station),
      ...flowFilter(filter),
    );
    return this.call('nodoChiediElencoFlussiRendicontazione', body, null, (answer) => ({
      flows: flowListOf(answer),
      fault: faultOf(answer),
    }));
  }

  /** One reporting flow (the node's current revision of that flow id), decoded from base64. */
  nodoChiediFlussoRendicontazione(
    station: StationCredentials,
    query: FlowFilter & { flowId: string },
  ): Promise<FlowAnswer> {
    const body = el(
      'ppt:nodoChiediFlussoRendicontazione',
      { 'xmlns:ppt': PPT_NS },
      ...stationLogin(station),
      ...flowFilter(query),
      el('identificativoFlusso', null, query.flowId),
    );
    return this.call('nodoChiediFlussoRendicontazione', body, null, (answer) => {
      const xml = firstText(answer, 'xmlRendicontazione');
      return { xml: xml ? Buffer.from(xml, 'base64').toString('utf8') : null, fault: faultOf(answer) };
    });
  }

  /**
   * Current model, payment started at the EC's site: registers a cart of notices at the node's
   * checkout and returns the URL the citizen is sent to.
   */
  async createCheckoutCart(
    notices: CheckoutNotice[],
    returnUrls: { returnOkUrl: string; returnCancelUrl: string; returnErrorUrl: string },
    idCart?: string,
  ): Promise<string> {
    if (notices.length < 1 || notices.length > 5) {
      throw domainError('INVALID_INPUT', 'a checkout cart holds 1 to 5 notices', { field: 'paymentNotices' });
    }
    const body = JSON.stringify({
      paymentNotices: notices.map((n) => ({
        noticeNumber: n.noticeNumber,
        fiscalCode: n.fiscalCode,
        amount: n.amountCents,
        companyName: n.companyName,
        description: n.description,
      })),
      returnUrls,
      idCart,
    });
    const correlationId = randomUUID();
    await logMessage(this.options.store, {
      correlationId,
      direction: 'request',
      service: 'checkout',
      operation: 'carts',
      xml: body,
      actor: 'node-client',
    });
    let res: Response;
    try {
      res = await fetch(`${this.options.baseUrl}/checkout/carts`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch {
      await logMessage(this.options.store, {
        correlationId,
        direction: 'fault',
        service: 'checkout',
        operation: 'carts',
        xml: 'no answer',
        actor: 'node-client',
      });
      throw new NodeUnavailable('carts', 'no answer');
    }
    const text = await res.text();
    await logMessage(this.options.store, {
      correlationId,
      direction: 'response',
      service: 'checkout',
      operation: 'carts',
      xml: text,
      httpStatus: res.status,
      actor: 'node-client',
    });
    const location = res.headers.get('location');
    if ((res.status === 302 || res.status === 303) && location)
      return new URL(location, this.options.baseUrl).href;
    if (res.ok) {
      const url = (JSON.parse(text) as { checkoutUrl?: string }).checkoutUrl;
      if (url) return new URL(url, this.options.baseUrl).href;
    }
    throw new NodeUnavailable('carts', `HTTP ${res.status}`);
  }
}
