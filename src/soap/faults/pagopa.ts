// The one place where failures become pagoPA answers (pagopa-facts §5, §9): business errors are
// HTTP 200 with outcome/esito KO and a fault bean whose id is the EC's fiscal code. Current-model
// answers (ctResponse) carry outcome + fault; legacy PaPerNodo* answers wrap fault + esito in an
// inner element named like the answer itself.

import { isDomainError, type ErrorCode } from '../../domain/errors.ts';
import { el, leaf, type XmlNode } from '../../xml/build.ts';
import type { OperationDescription } from '../manifest.ts';

export type PagopaFaultCode =
  | 'PAA_PAGAMENTO_SCONOSCIUTO'
  | 'PAA_PAGAMENTO_DUPLICATO'
  | 'PAA_PAGAMENTO_IN_CORSO'
  | 'PAA_PAGAMENTO_ANNULLATO'
  | 'PAA_PAGAMENTO_SCADUTO'
  | 'PAA_RECEIPT_DUPLICATA'
  | 'PAA_RT_DUPLICATA'
  | 'PAA_RPT_SCONOSCIUTA'
  | 'PAA_ID_DOMINIO_ERRATO'
  | 'PAA_ID_INTERMEDIARIO_ERRATO'
  | 'PAA_STAZIONE_INT_ERRATA'
  | 'PAA_SINTASSI_EXTRAXSD'
  | 'PAA_SINTASSI_XSD'
  | 'PAA_SEMANTICA'
  | 'PAA_SYSTEM_ERROR';

/** faultString texts as pagoPA's error table words them. */
const FAULT_STRINGS: Record<PagopaFaultCode, string> = {
  PAA_PAGAMENTO_SCONOSCIUTO: 'Pagamento in attesa risulta sconosciuto all’Ente Creditore.',
  PAA_PAGAMENTO_DUPLICATO: 'Pagamento in attesa risulta concluso all’Ente Creditore.',
  PAA_PAGAMENTO_IN_CORSO: 'Pagamento in attesa risulta in corso all’Ente Creditore.',
  PAA_PAGAMENTO_ANNULLATO: 'Pagamento in attesa risulta annullato all’Ente Creditore.',
  PAA_PAGAMENTO_SCADUTO: 'Pagamento in attesa risulta scaduto all’Ente Creditore.',
  PAA_RECEIPT_DUPLICATA: 'La ricevuta è già stata ricevuta.',
  PAA_RT_DUPLICATA: 'La RT è già stata accettata.',
  PAA_RPT_SCONOSCIUTA: 'La RPT risulta sconosciuta.',
  PAA_ID_DOMINIO_ERRATO: 'Identificativo dominio errato o sconosciuto.',
  PAA_ID_INTERMEDIARIO_ERRATO: 'Identificativo intermediario errato.',
  PAA_STAZIONE_INT_ERRATA: 'Stazione intermediario errata.',
  PAA_SINTASSI_EXTRAXSD: 'Errore di sintassi extra XSD.',
  PAA_SINTASSI_XSD: 'Errore di sintassi XSD.',
  PAA_SEMANTICA: 'Errore semantico.',
  PAA_SYSTEM_ERROR: 'Errore generico.',
};

const FROM_DOMAIN: Partial<Record<ErrorCode, PagopaFaultCode>> = {
  POSITION_UNKNOWN: 'PAA_PAGAMENTO_SCONOSCIUTO',
  // A reserved (not yet activated) or released multe notice does not exist for the node.
  POSITION_NOT_PAYABLE: 'PAA_PAGAMENTO_SCONOSCIUTO',
  POSITION_EXPIRED: 'PAA_PAGAMENTO_SCADUTO',
  POSITION_CANCELLED: 'PAA_PAGAMENTO_ANNULLATO',
  POSITION_ALREADY_PAID: 'PAA_PAGAMENTO_DUPLICATO',
  PAYMENT_IN_PROGRESS: 'PAA_PAGAMENTO_IN_CORSO',
  ENTE_UNKNOWN: 'PAA_ID_DOMINIO_ERRATO',
  BROKER_UNKNOWN: 'PAA_ID_INTERMEDIARIO_ERRATO',
  STATION_UNKNOWN: 'PAA_STAZIONE_INT_ERRATA',
  RECEIPT_DUPLICATE: 'PAA_RECEIPT_DUPLICATA',
  INVALID_NOTICE_NUMBER: 'PAA_PAGAMENTO_SCONOSCIUTO',
  INVALID_CHECK_DIGIT: 'PAA_PAGAMENTO_SCONOSCIUTO',
  INVALID_AUX_DIGIT: 'PAA_PAGAMENTO_SCONOSCIUTO',
  INVALID_IUV: 'PAA_PAGAMENTO_SCONOSCIUTO',
  INVALID_SEGREGATION_CODE: 'PAA_PAGAMENTO_SCONOSCIUTO',
};

export interface PagopaFault {
  faultCode: PagopaFaultCode;
  faultString: string;
  /** The EC's fiscal code (identificativoDominio / idPA) the request named. */
  id: string;
  description?: string | undefined;
}

export function pagopaFault(faultCode: PagopaFaultCode, id: string, description?: string): PagopaFault {
  return { faultCode, faultString: FAULT_STRINGS[faultCode], id, description };
}

/**
 * Maps a thrown error to the pagoPA fault the node should see. Domain errors map by code; anything
 * else is PAA_SYSTEM_ERROR with only the correlation id, never the internal message.
 */
export function pagopaFaultFor(err: unknown, id: string, correlationId: string): PagopaFault {
  if (isDomainError(err)) {
    const code = FROM_DOMAIN[err.code];
    if (code) return pagopaFault(code, id, err.message);
    if (err.code.startsWith('INVALID_')) return pagopaFault('PAA_SEMANTICA', id, err.message);
  }
  return pagopaFault('PAA_SYSTEM_ERROR', id, `correlationId ${correlationId}`);
}

function faultBean(fault: PagopaFault): XmlNode {
  return el(
    'fault',
    null,
    leaf('faultCode', fault.faultCode),
    leaf('faultString', fault.faultString),
    leaf('id', fault.id),
    leaf('description', fault.description),
  );
}

export type PagopaDialect = 'current' | 'legacy';

/** The operation's answer element carrying only KO and the fault, as XML we write ourselves. */
export function pagopaKoAnswer(
  operation: OperationDescription,
  dialect: PagopaDialect,
  fault: PagopaFault,
): XmlNode {
  const { namespace, localName } = operation.output;
  const attrs = { 'xmlns:ans': namespace };
  if (dialect === 'current') {
    return el(`ans:${localName}`, attrs, leaf('outcome', 'KO'), faultBean(fault));
  }
  return el(`ans:${localName}`, attrs, el(localName, null, faultBean(fault), leaf('esito', 'KO')));
}

/** The same answer as a node-soap result object (handlers return it; node-soap serialises it). */
export function pagopaKoObject(operation: OperationDescription, dialect: PagopaDialect, fault: PagopaFault) {
  const bean = {
    faultCode: fault.faultCode,
    faultString: fault.faultString,
    id: fault.id,
    description: fault.description,
  };
  if (dialect === 'current') return { outcome: 'KO', fault: bean };
  return { [operation.output.localName]: { fault: bean, esito: 'KO' } };
}
