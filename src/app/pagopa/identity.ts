// Identity checks on every call from the node (pagopa-facts §9): the EC must be one of ours and
// active, and the broker and station the node names must be the ones that EC is configured on.
// Failures are ENTE_UNKNOWN / BROKER_UNKNOWN / STATION_UNKNOWN, which the pagoPA fault mapper turns
// into PAA_ID_DOMINIO_ERRATO / PAA_ID_INTERMEDIARIO_ERRATO / PAA_STAZIONE_INT_ERRATA.

import { domainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
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

export async function checkNodeCaller(store: Store, caller: NodeCaller): Promise<CheckedCaller> {
  const ente = await store.enti.getByFiscalCode(caller.enteFiscalCode);
  if (!ente || ente.status !== 'active') {
    throw domainError('ENTE_UNKNOWN', 'the EC is not served by this intermediary', { field: 'idPA' });
  }
  const station = await store.stations.getById(ente.stationId);
  const broker = station ? await store.brokers.getById(station.brokerId) : null;
  if (!station || !broker || broker.fiscalCode !== caller.brokerFiscalCode) {
    throw domainError('BROKER_UNKNOWN', 'the EC is not served through this broker', { field: 'idBrokerPA' });
  }
  if (station.stationId !== caller.stationId || station.status !== 'active') {
    throw domainError('STATION_UNKNOWN', 'the EC is not served through this station', { field: 'idStation' });
  }
  return { ente, station };
}
