// Request/response logging of every SOAP exchange into the event log (entity `soap_message`, keyed
// by the correlation id), with credentials redacted, and the retention purge that keeps it bounded.

import type { EventInput } from '../db/repositories/events.ts';
import type { Store } from '../db/store.ts';

export const SOAP_MESSAGE = 'soap_message';

export type MessageDirection = 'request' | 'response' | 'fault';

export interface LoggedMessage {
  correlationId: string;
  direction: MessageDirection;
  service: string;
  operation: string | null;
  httpStatus?: number;
  xml: string;
  actor?: string;
}

// Passwords must never reach the log: WS-Security's <wsse:Password> and the station <password>
// of nodo* requests, whatever prefix the sender chose. Eight stars keep a logged nodo* request
// valid against its schema (station passwords are 8-15 characters).
const PASSWORD_ELEMENT = /(<([\w.-]+:)?password\b[^>]*>)[\s\S]*?(<\/([\w.-]+:)?password>)/gi;
// A message cut off inside a password element (truncated, malformed) has no closing tag: an
// opening tag still not followed by the stars masks everything after it.
const UNCLOSED_PASSWORD = /(<([\w.-]+:)?password\b[^>]*(?<!\/)>)(?!\*{8}<\/([\w.-]+:)?password>)[\s\S]*$/i;

export function redact(xml: string): string {
  return xml.replace(PASSWORD_ELEMENT, '$1********$3').replace(UNCLOSED_PASSWORD, '$1********');
}

/** The log keeps at most this many characters of a message; the rest is summarised by its length. */
const MAX_LOGGED_CHARS = 256 * 1024;

export async function logMessage(store: Store, message: LoggedMessage): Promise<void> {
  await store.events.append(eventOf(message));
}

/**
 * Several messages (a request and its answer) in one INSERT, so one write transaction instead of
 * one each; the rows share the time of the write and keep their order (ids ascending).
 */
export async function logMessages(store: Store, messages: readonly LoggedMessage[]): Promise<void> {
  await store.events.appendMany(messages.map(eventOf));
}

function eventOf(message: LoggedMessage): EventInput {
  const xml = redact(message.xml);
  return {
    entityType: SOAP_MESSAGE,
    entityId: message.correlationId,
    action: message.direction,
    cause: `${message.service}${message.operation ? `.${message.operation}` : ''}`,
    actor: message.actor ?? 'soap',
    payload: {
      service: message.service,
      operation: message.operation,
      httpStatus: message.httpStatus ?? null,
      length: xml.length,
      xml: xml.length > MAX_LOGGED_CHARS ? xml.slice(0, MAX_LOGGED_CHARS) : xml,
      truncated: xml.length > MAX_LOGGED_CHARS,
    },
  };
}

export function purgeMessageLog(store: Store, retentionDays: number, now = new Date()): Promise<number> {
  return store.events.purge(SOAP_MESSAGE, new Date(now.getTime() - retentionDays * 86_400_000));
}
