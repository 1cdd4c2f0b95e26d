// What every node operation module shares: its dependencies, the station login read from a request
// body, and small readers for node-soap's parsed objects (a list of one comes back as one object).

import type { Store } from '../../db/store.ts';
import type { EmulatorDb } from '../db.ts';
import type { FlowSource } from '../flows.ts';
import type { StationLogin } from '../registry.ts';

export interface NodeDeps {
  store: Store;
  edb: EmulatorDb;
  flows: FlowSource;
}

export function toArray<T>(value: T | T[] | null | undefined): T[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** A request field as text ('' when absent): node-soap hands over strings for simple content. */
export function field(args: Record<string, unknown>, name: string): string {
  const value = args[name];
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
}

export function optionalField(args: Record<string, unknown>, name: string): string | null {
  const value = field(args, name);
  return value === '' ? null : value;
}

/** identificativoIntermediarioPA / identificativoStazioneIntermediarioPA / password of a body. */
export function bodyLogin(args: Record<string, unknown>): StationLogin {
  return {
    brokerId: field(args, 'identificativoIntermediarioPA'),
    stationId: field(args, 'identificativoStazioneIntermediarioPA'),
    password: field(args, 'password'),
  };
}

/** Where the node sends the citizen for a cart: the emulator's checkout page. */
export function checkoutUrl(origin: string, cartId: string): string {
  return `${origin}/emulator/checkout/${encodeURIComponent(cartId)}`;
}
