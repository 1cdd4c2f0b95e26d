// Where the redirect models may send a citizen back (DESIGN §9): a return or cancel URL must match
// one of the gestionale client's allow-listed prefixes (`scheme://host[:port][/path]`). URLs are
// compared parsed, never as raw text, so `http://127.0.0.1.evil.example` or
// `http://127.0.0.1@evil.example` cannot pass for the prefix `http://127.0.0.1`. A prefix without a
// port allows any port of its host (the demo's `http://localhost`); a path matches whole segments.

import { domainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { GestionaleCaller } from './common.ts';

export interface ReturnUrls {
  returnUrl: string;
  /** Null: cancel goes to returnUrl. */
  cancelUrl: string | null;
}

function parse(value: string): URL | null {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
  } catch {
    return null;
  }
}

/** Whether `path` is `prefixPath` or lies below it (segment-wise). */
function pathWithin(path: string, prefixPath: string): boolean {
  if (prefixPath === '' || prefixPath === '/') return true;
  if (path === prefixPath) return true;
  return path.startsWith(prefixPath.endsWith('/') ? prefixPath : `${prefixPath}/`);
}

/** Whether one URL matches one allow-listed prefix. */
export function matchesPrefix(value: string, prefixValue: string): boolean {
  const url = parse(value);
  const prefix = parse(prefixValue);
  if (!url || !prefix) return false;
  if (url.username || url.password) return false;
  if (url.protocol !== prefix.protocol || url.hostname !== prefix.hostname) return false;
  // URL drops a scheme's default port: an explicit prefix port must match; none means any port.
  if (prefix.port !== '' && url.port !== prefix.port) return false;
  return pathWithin(url.pathname, prefix.pathname);
}

export function isAllowedReturnUrl(value: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => matchesPrefix(value, prefix));
}

/** Checks returnUrl and cancelUrl against the caller's allow-list: RETURN_URL_NOT_ALLOWED naming the field. */
export async function checkReturnUrls(
  store: Store,
  caller: GestionaleCaller,
  urls: ReturnUrls,
): Promise<void> {
  const client = caller.clientId === null ? null : await store.clients.getById(caller.clientId);
  const prefixes = client?.returnUrlPrefixes ?? [];
  const fields: Array<[string, string | null]> = [
    ['returnUrl', urls.returnUrl],
    ['cancelUrl', urls.cancelUrl],
  ];
  for (const [field, value] of fields) {
    if (value !== null && !isAllowedReturnUrl(value, prefixes)) {
      throw domainError('RETURN_URL_NOT_ALLOWED', `${field} is not on the client's allow-list`, { field });
    }
  }
}

/** The URL with the outcome parameters added (its own query kept): what the gestionale receives. */
export function withOutcome(value: string, params: Record<string, string>): string {
  const url = new URL(value);
  for (const [key, v] of Object.entries(params)) url.searchParams.set(key, v);
  return url.toString();
}
