// The one place where failures become gestionale API answers (DESIGN §3): HTTP 200, outcome KO and
// a fault block with a stable PPAY_* code (catalogue documented on pt:stFaultCode in
// xsd/gestionale/ppay-types.xsd). Callers branch on faultCode, never on faultString.

import type { DomainError, ErrorCode } from '../../domain/errors.ts';
import { el, leaf, type XmlNode } from '../../xml/build.ts';
import type { OperationDescription } from '../manifest.ts';

export type GestionaleFaultCode =
  | 'PPAY_XSD_INVALID'
  | 'PPAY_INVALID_INPUT'
  | 'PPAY_UNAUTHORIZED'
  | 'PPAY_ENTE_UNKNOWN'
  | 'PPAY_SERVICE_UNKNOWN'
  | 'PPAY_MODEL_NOT_ALLOWED'
  | 'PPAY_MESSAGE_DUPLICATE'
  | 'PPAY_DUPLICATE_IN_MESSAGE'
  | 'PPAY_POSITION_UNKNOWN'
  | 'PPAY_POSITION_DUPLICATE'
  | 'PPAY_NOTICE_UNKNOWN'
  | 'PPAY_NOTICE_DUPLICATE'
  | 'PPAY_NOTICE_NOT_ACTIVE'
  | 'PPAY_NOTICE_ALREADY_ACTIVE'
  | 'PPAY_INVALID_STATE'
  | 'PPAY_IUV_EXHAUSTED'
  | 'PPAY_UPLOAD_UNKNOWN'
  | 'PPAY_PAYMENT_UNKNOWN'
  | 'PPAY_RECEIPT_UNKNOWN'
  | 'PPAY_FLOW_UNKNOWN'
  | 'PPAY_RETURN_URL_NOT_ALLOWED'
  | 'PPAY_NODE_UNAVAILABLE'
  | 'PPAY_CONCURRENT_UPDATE'
  | 'PPAY_NOT_IMPLEMENTED'
  | 'PPAY_SYSTEM_ERROR';

const FAULT_STRINGS: Record<GestionaleFaultCode, string> = {
  PPAY_XSD_INVALID: 'The request does not match the schema',
  PPAY_INVALID_INPUT: 'A value in the request is not valid',
  PPAY_UNAUTHORIZED: 'The credential is not bound to this ente, service or model',
  PPAY_ENTE_UNKNOWN: 'Unknown ente',
  PPAY_SERVICE_UNKNOWN: 'Unknown service',
  PPAY_MODEL_NOT_ALLOWED: 'The integration model is not allowed',
  PPAY_MESSAGE_DUPLICATE: 'The message id was already used with different content',
  PPAY_DUPLICATE_IN_MESSAGE: 'The positionId appears more than once in the message',
  PPAY_POSITION_UNKNOWN: 'Unknown debt position',
  PPAY_POSITION_DUPLICATE: 'The debt position already exists',
  PPAY_NOTICE_UNKNOWN: 'Unknown notice number',
  PPAY_NOTICE_DUPLICATE: 'The notice number is already in use',
  PPAY_NOTICE_NOT_ACTIVE: 'The notice is not active yet',
  PPAY_NOTICE_ALREADY_ACTIVE: 'The notice is already active',
  PPAY_INVALID_STATE: 'The position status does not allow this change',
  PPAY_IUV_EXHAUSTED: 'No more notice numbers are available',
  PPAY_UPLOAD_UNKNOWN: 'Unknown upload',
  PPAY_PAYMENT_UNKNOWN: 'Unknown payment',
  PPAY_RECEIPT_UNKNOWN: 'No receipt for this payment',
  PPAY_FLOW_UNKNOWN: 'Unknown reporting flow',
  PPAY_RETURN_URL_NOT_ALLOWED: 'The return URL is not on the client allow-list',
  PPAY_NODE_UNAVAILABLE: 'The pagoPA node is not available; retry later',
  PPAY_CONCURRENT_UPDATE: 'The position changed meanwhile; read it again and retry',
  PPAY_NOT_IMPLEMENTED: 'The operation is not implemented yet',
  PPAY_SYSTEM_ERROR: 'Unexpected error',
};

/** Domain codes that have a PPAY_* code of their own; every other INVALID_* is PPAY_INVALID_INPUT. */
const FROM_DOMAIN: Partial<Record<ErrorCode, GestionaleFaultCode>> = {
  UNAUTHORIZED: 'PPAY_UNAUTHORIZED',
  FORBIDDEN: 'PPAY_UNAUTHORIZED',
  ENTE_UNKNOWN: 'PPAY_ENTE_UNKNOWN',
  SERVICE_UNKNOWN: 'PPAY_SERVICE_UNKNOWN',
  POSITION_UNKNOWN: 'PPAY_POSITION_UNKNOWN',
  POSITION_DUPLICATE: 'PPAY_POSITION_DUPLICATE',
  NOTICE_DUPLICATE: 'PPAY_NOTICE_DUPLICATE',
  INVALID_STATE_TRANSITION: 'PPAY_INVALID_STATE',
  IUV_EXHAUSTED: 'PPAY_IUV_EXHAUSTED',
  PAYMENT_UNKNOWN: 'PPAY_PAYMENT_UNKNOWN',
  CONCURRENT_UPDATE: 'PPAY_CONCURRENT_UPDATE',
  DUPLICATE: 'PPAY_MESSAGE_DUPLICATE',
  MESSAGE_DUPLICATE: 'PPAY_MESSAGE_DUPLICATE',
  DUPLICATE_IN_MESSAGE: 'PPAY_DUPLICATE_IN_MESSAGE',
  UPLOAD_UNKNOWN: 'PPAY_UPLOAD_UNKNOWN',
  NOTICE_UNKNOWN: 'PPAY_NOTICE_UNKNOWN',
  NOTICE_ALREADY_ACTIVE: 'PPAY_NOTICE_ALREADY_ACTIVE',
  POSITION_NOT_PAYABLE: 'PPAY_NOTICE_NOT_ACTIVE',
  // Why a position cannot be paid now: its status forbids it.
  POSITION_ALREADY_PAID: 'PPAY_INVALID_STATE',
  POSITION_CANCELLED: 'PPAY_INVALID_STATE',
  POSITION_EXPIRED: 'PPAY_INVALID_STATE',
  PAYMENT_IN_PROGRESS: 'PPAY_INVALID_STATE',
  RECEIPT_UNKNOWN: 'PPAY_RECEIPT_UNKNOWN',
  FLOW_UNKNOWN: 'PPAY_FLOW_UNKNOWN',
  RETURN_URL_NOT_ALLOWED: 'PPAY_RETURN_URL_NOT_ALLOWED',
  NODE_UNAVAILABLE: 'PPAY_NODE_UNAVAILABLE',
};

export interface GestionaleFault {
  faultCode: GestionaleFaultCode;
  faultString: string;
  description?: string | undefined;
  field?: string | undefined;
}

export function gestionaleFault(
  faultCode: GestionaleFaultCode,
  description?: string,
  field?: string,
): GestionaleFault {
  return {
    faultCode,
    faultString: FAULT_STRINGS[faultCode],
    description: description?.slice(0, 1024),
    field,
  };
}

export function gestionaleFaultFor(err: DomainError): GestionaleFault {
  const field = typeof err.details.field === 'string' ? err.details.field : undefined;
  return gestionaleFaultForCode(err.code, err.message, field);
}

/** The same mapping for an error stored as data (an upload item's or a released notice's outcome). */
export function gestionaleFaultForCode(
  code: ErrorCode,
  description?: string,
  field?: string,
): GestionaleFault {
  const mapped =
    FROM_DOMAIN[code] ?? (code.startsWith('INVALID_') ? 'PPAY_INVALID_INPUT' : 'PPAY_SYSTEM_ERROR');
  return gestionaleFault(mapped, description || undefined, field?.slice(0, 140) || undefined);
}

/** A pt:ctFault object for node-soap, in schema order (nested in per-item outcomes). */
export function gestionaleFaultObject(fault: GestionaleFault) {
  return {
    faultCode: fault.faultCode,
    faultString: fault.faultString,
    description: fault.description,
    field: fault.field,
  };
}

/** A KO answer object for node-soap: outcome then fault, in schema order. */
export function gestionaleKoObject(fault: GestionaleFault) {
  return {
    outcome: 'KO',
    fault: gestionaleFaultObject(fault),
  };
}

/** The same answer as XML we write ourselves (for requests refused before node-soap sees them). */
export function gestionaleKoAnswer(operation: OperationDescription, fault: GestionaleFault): XmlNode {
  return el(
    `ans:${operation.output.localName}`,
    { 'xmlns:ans': operation.output.namespace },
    leaf('outcome', 'KO'),
    el(
      'fault',
      null,
      leaf('faultCode', fault.faultCode),
      leaf('faultString', fault.faultString),
      leaf('description', fault.description),
      leaf('field', fault.field),
    ),
  );
}
