// The node side of pagoPA's error table (pagopa-facts §4, §5, §9): PPT_* fault codes in a faultBean
// whose id is "NodoDeiPagamentiSPC", the KO shape of each nodo* answer (as node-soap objects for the
// handlers, as XML for the guard's schema rejections), and NodeFault, which handlers throw.

import { el, leaf, type XmlNode } from '../xml/build.ts';
import type { OperationDescription } from '../soap/manifest.ts';

export const NODE_ID = 'NodoDeiPagamentiSPC';

const FAULT_STRINGS = {
  PPT_SINTASSI_EXTRAXSD: 'Errore di sintassi extra XSD.',
  PPT_SINTASSI_XSD: 'Errore di sintassi XSD.',
  PPT_SEMANTICA: 'Errore semantico.',
  PPT_SYSTEM_ERROR: 'Errore generico.',
  PPT_AUTENTICAZIONE: 'Errore di autenticazione.',
  PPT_AUTORIZZAZIONE: 'Il richiedente non è autorizzato.',
  PPT_DOMINIO_SCONOSCIUTO: 'Identificativo dominio sconosciuto.',
  PPT_DOMINIO_DISABILITATO: 'Dominio disabilitato.',
  PPT_INTERMEDIARIO_PA_SCONOSCIUTO: 'Identificativo intermediario PA sconosciuto.',
  PPT_STAZIONE_INT_PA_SCONOSCIUTA: 'Identificativo stazione intermediario PA sconosciuto.',
  PPT_STAZIONE_INT_PA_DISABILITATA: 'Stazione intermediario PA disabilitata.',
  PPT_PSP_SCONOSCIUTO: 'PSP sconosciuto.',
  PPT_INTERMEDIARIO_PSP_SCONOSCIUTO: 'Identificativo intermediario PSP sconosciuto.',
  PPT_CANALE_SCONOSCIUTO: 'Identificativo canale sconosciuto.',
  PPT_RPT_DUPLICATA: 'RPT duplicata.',
  PPT_ID_CARRELLO_DUPLICATO: 'Identificativo carrello duplicato.',
  PPT_RPT_SCONOSCIUTA: 'RPT sconosciuta.',
  PPT_RT_SCONOSCIUTA: 'RT sconosciuta.',
  PPT_RT_NONDISPONIBILE: 'RT non ancora disponibile.',
  PPT_ID_FLUSSO_SCONOSCIUTO: 'Identificativo flusso sconosciuto.',
  PPT_PAGAMENTO_IN_CORSO: 'Pagamento in attesa risulta in corso al sistema pagoPA.',
  PPT_PAGAMENTO_DUPLICATO: 'Pagamento in attesa risulta concluso al sistema pagoPA.',
  PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE: 'Stazione intermediario PA irraggiungibile.',
  PPT_STAZIONE_INT_PA_TIMEOUT: 'Timeout dalla stazione intermediario PA.',
  PPT_STAZIONE_INT_PA_ERRORE_RESPONSE: 'Errore nella risposta della stazione intermediario PA.',
} as const;

export type NodeFaultCode = keyof typeof FAULT_STRINGS;

export interface NodeFaultBean {
  faultCode: NodeFaultCode;
  faultString: string;
  id: string;
  description?: string;
  /** Position (1-based) of the RPT a cart error is about. */
  serial?: number;
}

export function nodeFaultBean(code: NodeFaultCode, description?: string, serial?: number): NodeFaultBean {
  return {
    faultCode: code,
    faultString: FAULT_STRINGS[code],
    id: NODE_ID,
    ...(description !== undefined ? { description } : {}),
    ...(serial !== undefined ? { serial } : {}),
  };
}

/** A business error of the node: handlers throw it, the binding turns it into the KO answer. */
export class NodeFault extends Error {
  readonly bean: NodeFaultBean;

  constructor(code: NodeFaultCode, description?: string, serial?: number) {
    super(description ?? code);
    this.bean = nodeFaultBean(code, description, serial);
  }
}

/**
 * Fields an answer must carry besides the fault, when KO (the schema makes them mandatory):
 * nodoInviaRPT needs esito, the cart esitoComplessivoOperazione, nodoChiediStatoRPT an esito
 * whose stato is mandatory too. The other answers are a bare fault.
 */
const KO_FIELDS: Readonly<Record<string, Record<string, unknown>>> = {
  nodoInviaRPT: { esito: 'KO' },
  nodoInviaCarrelloRPT: { esitoComplessivoOperazione: 'KO' },
  nodoChiediStatoRPT: { esito: { stato: 'KO' } },
};

/** The KO answer as node-soap serialises it (key order = schema order: fault first). */
export function nodeKoObject(
  operationName: string,
  bean: NodeFaultBean,
  extra: Record<string, unknown> = {},
) {
  return { fault: bean, ...(KO_FIELDS[operationName] ?? {}), ...extra };
}

function toXml(name: string, value: unknown): XmlNode | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'object') {
    return el(name, null, ...Object.entries(value).map(([k, v]) => toXml(k, v)));
  }
  return leaf(name, String(value as string | number));
}

/** The same KO answer as XML, for the guard's schema rejection (PPT_SINTASSI_EXTRAXSD). */
export function nodeKoAnswer(operation: OperationDescription, bean: NodeFaultBean): XmlNode {
  const { namespace, localName } = operation.output;
  const answer = nodeKoObject(operation.name, bean);
  return el(
    `ans:${localName}`,
    { 'xmlns:ans': namespace },
    ...Object.entries(answer).map(([k, v]) => toXml(k, v)),
  );
}
