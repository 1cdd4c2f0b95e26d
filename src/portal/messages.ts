// Errors as the portal's users read them: an HTTP status and an Italian sentence per error code.
// Domain messages are English and technical; they are never shown as they are.

import type { DomainError, ErrorCode } from '../domain/errors.ts';

const TEXT: Partial<Record<ErrorCode, string>> = {
  INVALID_NOTICE_NUMBER: 'Il codice avviso non è valido.',
  INVALID_IUV: 'Il codice IUV non è valido.',
  INVALID_CHECK_DIGIT: 'Il carattere di controllo non è corretto.',
  INVALID_FISCAL_CODE: 'Il codice fiscale o la partita IVA non sono validi.',
  INVALID_IBAN: "L'IBAN non è valido.",
  INVALID_AMOUNT: "L'importo non è valido.",
  INVALID_DATE: 'La data non è valida.',
  INVALID_POSITION: 'La posizione debitoria non è valida.',
  INVALID_TRANSFER: 'I dati di un beneficiario non sono validi.',
  INVALID_STATE_TRANSITION: 'Operazione non consentita nello stato attuale della posizione.',
  INVALID_INPUT: 'I dati inseriti non sono validi.',
  INVALID_DOCUMENT: 'Il file caricato non è valido.',
  ENTE_UNKNOWN: 'Ente non trovato.',
  ENTE_DUPLICATE: 'Esiste già un ente con questo codice fiscale.',
  SERVICE_UNKNOWN: 'Servizio non trovato.',
  SERVICE_DUPLICATE: 'Esiste già un servizio con questo codice.',
  STATION_UNKNOWN: 'Stazione non trovata.',
  BROKER_UNKNOWN: 'Intermediario non trovato.',
  CLIENT_UNKNOWN: 'Gestionale non trovato.',
  CLIENT_DUPLICATE: 'Esiste già un gestionale con questo nome utente.',
  POSITION_UNKNOWN: 'Non trovato.',
  POSITION_NOT_PAYABLE: 'La posizione non è pagabile.',
  POSITION_EXPIRED: 'La posizione è scaduta.',
  POSITION_CANCELLED: 'La posizione è annullata.',
  POSITION_ALREADY_PAID: 'La posizione risulta già pagata.',
  PAYMENT_IN_PROGRESS: 'Un pagamento è in corso su questa posizione.',
  POSITION_DUPLICATE: 'Esiste già una posizione con questo identificativo.',
  NOTICE_DUPLICATE: 'Il codice avviso è già utilizzato.',
  IUV_EXHAUSTED: 'I codici IUV disponibili sono esauriti.',
  DUPLICATE: 'Il dato esiste già.',
  CONCURRENT_UPDATE: 'Il dato è stato modificato nel frattempo: ricarica la pagina e riprova.',
  UNAUTHORIZED: 'Nome utente o password errati.',
  FORBIDDEN: 'Non hai i permessi per questa operazione.',
  PAYMENT_UNKNOWN: 'Pagamento non trovato.',
  RECEIPT_UNKNOWN: 'Ricevuta non trovata.',
  UPLOAD_UNKNOWN: 'Caricamento non trovato.',
  NOTICE_UNKNOWN: 'Avviso non trovato.',
  NODE_UNAVAILABLE: 'Il sistema pagoPA non è raggiungibile in questo momento. Riprova tra qualche minuto.',
  FLOW_UNKNOWN: 'Flusso di rendicontazione non trovato.',
  ANOMALY_UNKNOWN: 'Anomalia non trovata.',
  TOO_MANY_ATTEMPTS: 'Troppi tentativi di accesso falliti. Riprova tra 15 minuti.',
};

export function italianMessage(err: DomainError): string {
  return TEXT[err.code] ?? 'Operazione non riuscita.';
}

export function statusOf(err: DomainError): number {
  const code = err.code;
  if (code === 'UNAUTHORIZED') return 401;
  if (code === 'FORBIDDEN') return 403;
  if (code === 'TOO_MANY_ATTEMPTS') return 429;
  if (code === 'NODE_UNAVAILABLE') return 503;
  if (code.endsWith('_UNKNOWN')) return 404;
  if (code.startsWith('INVALID_STATE')) return 409;
  if (code.startsWith('INVALID_') || code === 'SIGNATURE_INVALID') return 400;
  return 409;
}
