// The one error catalogue of the connector. Every failure the domain, the data layer or a use case
// can report is a DomainError with a code from this closed union; each interface (SOAP gestionale,
// pagoPA endpoints, CLI, portal) maps codes to its own fault format in one place.

export const ERROR_CODES = [
  // identifiers and values
  'INVALID_NOTICE_NUMBER',
  'INVALID_IUV',
  'INVALID_CHECK_DIGIT',
  'INVALID_AUX_DIGIT',
  'INVALID_APPLICATION_CODE',
  'INVALID_SEGREGATION_CODE',
  'INVALID_RF_REFERENCE',
  'INVALID_FISCAL_CODE',
  'INVALID_IBAN',
  'INVALID_AMOUNT',
  'INVALID_DATE',
  'INVALID_POSITION',
  'INVALID_TRANSFER',
  'INVALID_STATE_TRANSITION',
  'INVALID_INPUT',
  'INVALID_DOCUMENT',
  // references to things that do not exist or already exist
  'ENTE_UNKNOWN',
  'ENTE_DUPLICATE',
  'SERVICE_UNKNOWN',
  'SERVICE_DUPLICATE',
  'STATION_UNKNOWN',
  'BROKER_UNKNOWN',
  'CLIENT_UNKNOWN',
  'CLIENT_DUPLICATE',
  'POSITION_UNKNOWN',
  // a position the node asks about that cannot be paid now (pagoPA PAA_PAGAMENTO_*)
  'POSITION_NOT_PAYABLE',
  'POSITION_EXPIRED',
  'POSITION_CANCELLED',
  'POSITION_ALREADY_PAID',
  'PAYMENT_IN_PROGRESS',
  'POSITION_DUPLICATE',
  'NOTICE_DUPLICATE',
  'IUV_EXHAUSTED',
  'RECEIPT_DUPLICATE',
  'DUPLICATE',
  'CONCURRENT_UPDATE',
  // access
  'UNAUTHORIZED',
  'FORBIDDEN',
  // configuration
  'CONFIG_INVALID',
  // appended by the data layer
  'PAYMENT_UNKNOWN',
  // appended by the pagoPA receipt flow
  'RECEIPT_UNKNOWN',
  // appended by the gestionale API (uploads, requestId idempotency, multe con preavviso)
  'MESSAGE_DUPLICATE',
  'DUPLICATE_IN_MESSAGE',
  'UPLOAD_UNKNOWN',
  'NOTICE_UNKNOWN',
  'NOTICE_ALREADY_ACTIVE',
  // appended by the redirect models (Asincrona, Sincrona) and their citizen pages
  'RETURN_URL_NOT_ALLOWED',
  'NODE_UNAVAILABLE',
  'REDIRECT_TOKEN_INVALID',
  'REDIRECT_TOKEN_EXPIRED',
  'REDIRECT_TOKEN_USED',
  // appended by signed XML files (enveloped XML-DSig checked against a pinned certificate)
  'SIGNATURE_INVALID',
  // appended by reconciliation (flows, bank statements, anomalies)
  'FLOW_UNKNOWN',
  'ANOMALY_UNKNOWN',
  'STATEMENT_ENTE_MISMATCH',
  // appended by the operator portal (login throttling)
  'TOO_MANY_ATTEMPTS',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class DomainError extends Error {
  override readonly name = 'DomainError';
  readonly code: ErrorCode;
  /** Structured details safe to show to the caller (field names, offending values). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.details = Object.freeze({ ...details });
  }
}

export function domainError(
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
): DomainError {
  return new DomainError(code, message, details);
}

export function isDomainError(value: unknown, code?: ErrorCode): value is DomainError {
  return value instanceof DomainError && (code === undefined || value.code === code);
}
