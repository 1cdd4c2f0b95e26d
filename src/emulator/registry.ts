// What the node knows about its counterparts. The emulator runs beside the connector, so it reads
// the connector's own registry (brokers, stations, enti) as the node's registry of EC stations, and
// its emulator_psps table as the PSP registry. Failures are the node's PPT_* faults (pagopa-facts §4).

import { timingSafeEqual } from 'node:crypto';
import type { Store } from '../db/store.ts';
import type { Ente } from '../db/repositories/enti.ts';
import type { Station } from '../db/repositories/stations.ts';
import type { EmulatorDb, EmulatorPsp } from './db.ts';
import { NodeFault } from './faults.ts';

export interface StationLogin {
  brokerId: string;
  stationId: string;
  /** Absent only where the operation carries no password. */
  password?: string | undefined;
}

function samePassword(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The station an EC call comes from, checked against its broker and password. */
export async function checkStation(store: Store, login: StationLogin): Promise<Station> {
  const station = await store.stations.getByStationId(login.stationId);
  if (!station) throw new NodeFault('PPT_STAZIONE_INT_PA_SCONOSCIUTA', `stazione ${login.stationId}`);
  const broker = await store.brokers.getByFiscalCode(login.brokerId);
  if (!broker) throw new NodeFault('PPT_INTERMEDIARIO_PA_SCONOSCIUTO', `intermediario ${login.brokerId}`);
  if (broker.id !== station.brokerId) {
    throw new NodeFault('PPT_AUTORIZZAZIONE', 'la stazione non appartiene a questo intermediario');
  }
  if (station.status !== 'active') throw new NodeFault('PPT_STAZIONE_INT_PA_DISABILITATA');
  if (login.password !== undefined && !samePassword(login.password, station.password)) {
    throw new NodeFault('PPT_AUTENTICAZIONE', 'password della stazione errata');
  }
  return station;
}

/**
 * The EC named by a request. With `station`, the EC must be served by that station (a secondary
 * EC of a multi-beneficiary cart only has to exist).
 */
export async function checkDominio(store: Store, idDominio: string, station?: Station): Promise<Ente> {
  const ente = await store.enti.getByFiscalCode(idDominio);
  if (!ente) throw new NodeFault('PPT_DOMINIO_SCONOSCIUTO', `dominio ${idDominio}`);
  if (ente.status !== 'active') throw new NodeFault('PPT_DOMINIO_DISABILITATO', `dominio ${idDominio}`);
  if (station && ente.stationId !== station.id) {
    throw new NodeFault('PPT_AUTORIZZAZIONE', `il dominio ${idDominio} non è servito da questa stazione`);
  }
  return ente;
}

export interface PspRoute {
  identificativoPSP: string;
  identificativoIntermediarioPSP: string;
  identificativoCanale: string;
}

/** The PSP, broker and channel an RPT names must be one consistent PSP of the registry. */
export async function checkPspRoute(edb: EmulatorDb, route: PspRoute): Promise<EmulatorPsp> {
  const psp = await edb.psps.get(route.identificativoPSP);
  if (!psp) throw new NodeFault('PPT_PSP_SCONOSCIUTO', `PSP ${route.identificativoPSP}`);
  if (psp.idBrokerPsp !== route.identificativoIntermediarioPSP) {
    throw new NodeFault(
      'PPT_INTERMEDIARIO_PSP_SCONOSCIUTO',
      `intermediario ${route.identificativoIntermediarioPSP}`,
    );
  }
  if (psp.idChannel !== route.identificativoCanale) {
    throw new NodeFault('PPT_CANALE_SCONOSCIUTO', `canale ${route.identificativoCanale}`);
  }
  return psp;
}

/** Where the node sends calls for an EC: the broker and station the registry binds it to. */
export interface EcStation {
  ente: Ente;
  station: Station;
  brokerId: string;
}

export async function stationOfEc(store: Store, fiscalCode: string): Promise<EcStation | null> {
  const ente = await store.enti.getByFiscalCode(fiscalCode);
  if (!ente) return null;
  const station = await store.stations.getById(ente.stationId);
  const broker = station ? await store.brokers.getById(station.brokerId) : null;
  if (!station || !broker) return null;
  return { ente, station, brokerId: broker.fiscalCode };
}
