// Identity checks on every call from the node (pagopa-facts §9): the EC must be one of ours and
// active, and the broker and station the node names must be the ones that EC is configured on.
// Failures are ENTE_UNKNOWN / BROKER_UNKNOWN / STATION_UNKNOWN, which the pagoPA fault mapper turns
// into PAA_ID_DOMINIO_ERRATO / PAA_ID_INTERMEDIARIO_ERRATO / PAA_STAZIONE_INT_ERRATA.

import { domainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { Broker } from '../../db/repositories/brokers.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Station } from '../../db/repositories/stations.ts';

export interface NodeCaller {
  enteFiscalCode: string;
  brokerFiscalCode: string;
  stationId: string;
}

export interface CheckedCaller {
  ente: Ente;
  station: Station;
}

interface Registration {
  ente: Ente;
  station: Station | null;
  broker: Broker | null;
  readAt: number;
}

/**
 * How long the ente / station / broker rows of an EC are reused (issue 9: three statements of every
 * node call). Trade-off: an EC, station or broker disabled or moved (portal, CLI, another process)
 * is still served as before for up to this long; an EC not found is never cached, so a new one is
 * served at once.
 */
export const REGISTRATION_TTL_MS = 5_000;
/** Bound on the cached ECs per database, far above any real registry. */
const MAX_CACHED_ENTI = 10_000;

/** Per database handle (a store and the stores of its repositories share one), never per transaction. */
const registrations = new WeakMap<object, Map<string, Registration>>();

async function registrationOf(store: Store, fiscalCode: string): Promise<Registration | null> {
  // Inside a transaction the rows are read afresh: the caller may be changing them.
  const cache = store.db.isTransaction ? null : cacheFor(store.db);
  const now = Date.now();
  const cached = cache?.get(fiscalCode);
  if (cached && now - cached.readAt < REGISTRATION_TTL_MS) return cached;
  const ente = await store.enti.getByFiscalCode(fiscalCode);
  if (!ente) {
    cache?.delete(fiscalCode);
    return null;
  }
  const station = await store.stations.getById(ente.stationId);
  const broker = station ? await store.brokers.getById(station.brokerId) : null;
  const registration = { ente, station, broker, readAt: now };
  if (cache) {
    if (cache.size >= MAX_CACHED_ENTI) cache.clear();
    cache.set(fiscalCode, registration);
  }
  return registration;
}

function cacheFor(db: object): Map<string, Registration> {
  let cache = registrations.get(db);
  if (!cache) {
    cache = new Map();
    registrations.set(db, cache);
  }
  return cache;
}

export async function checkNodeCaller(store: Store, caller: NodeCaller): Promise<CheckedCaller> {
  const registration = await registrationOf(store, caller.enteFiscalCode);
  const ente = registration?.ente;
  if (!ente || ente.status !== 'active') {
    throw domainError('ENTE_UNKNOWN', 'the EC is not served by this intermediary', { field: 'idPA' });
  }
  const { station, broker } = registration;
  if (!station || !broker || broker.fiscalCode !== caller.brokerFiscalCode) {
    throw domainError('BROKER_UNKNOWN', 'the EC is not served through this broker', { field: 'idBrokerPA' });
  }
  if (station.stationId !== caller.stationId || station.status !== 'active') {
    throw domainError('STATION_UNKNOWN', 'the EC is not served through this station', { field: 'idStation' });
  }
  return { ente, station };
}
