// WS-Security UsernameToken (PasswordText) for the gestionale API (DESIGN §9): the credential is
// looked up on every call, so a revoked client is refused at once; the costly scrypt check is
// remembered per (stored hash, password digest) so repeated calls stay fast.

import { createHash } from 'node:crypto';
import type { XmlElement } from 'libxml2-wasm';
import type { Store } from '../db/store.ts';
import type { IntegrationModel } from '../db/repositories/clients.ts';
import { verifyPassword } from '../app/passwords.ts';
import { childrenNamed } from './envelope.ts';

export const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const PASSWORD_TEXT =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText';

export interface UsernameToken {
  username: string;
  password: string;
}

export interface Principal {
  clientId: number;
  username: string;
  enteIds: number[];
  serviceIds: number[];
  models: IntegrationModel[];
}

/** The UsernameToken of the request's Security header, or null when absent or not PasswordText. */
export function readUsernameToken(header: XmlElement | null): UsernameToken | null {
  const [security] = childrenNamed(header, WSSE_NS, 'Security');
  const [token] = childrenNamed(security ?? null, WSSE_NS, 'UsernameToken');
  if (!token) return null;
  const [username] = childrenNamed(token, WSSE_NS, 'Username');
  const [password] = childrenNamed(token, WSSE_NS, 'Password');
  if (!username || !password) return null;
  const type = password.attr('Type')?.value;
  if (type && type !== PASSWORD_TEXT) return null;
  return { username: username.content.trim(), password: password.content };
}

const MAX_CACHED = 10_000;

export class Authenticator {
  private readonly verified = new Map<string, boolean>();

  constructor(private readonly store: Store) {}

  async authenticate(token: UsernameToken | null): Promise<Principal | null> {
    if (!token) return null;
    const client = await this.store.clients.findByUsername(token.username);
    if (!client || client.status !== 'active') return null;
    if (!(await this.passwordMatches(client.passwordHash, token.password))) return null;
    const bindings = await this.store.clients.bindings(client.id);
    return { clientId: client.id, username: client.username, ...bindings };
  }

  private async passwordMatches(stored: string, password: string): Promise<boolean> {
    const key = `${stored}|${createHash('sha256').update(password).digest('base64')}`;
    const known = this.verified.get(key);
    if (known !== undefined) return known;
    const ok = await verifyPassword(password, stored);
    if (this.verified.size >= MAX_CACHED) this.verified.clear();
    this.verified.set(key, ok);
    return ok;
  }
}
