// What the legacy use cases need from the pagoPA node (the port src/pagopa/nodeClient.ts implements),
// how the connector presents itself to the node for an ente (its broker, station and station
// password) (pagopa-facts §4, §6).

import { domainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Station } from '../../db/repositories/stations.ts';
import type { NodeClient, PspRoute, StationCredentials } from '../../pagopa/nodeClient.ts';
import type { NodeCaller } from './identity.ts';

export type {
  CartAnswer,
  CheckoutNotice,
  CopiaRtAnswer,
  InviaRptAnswer,
  NodeFault,
  PspRoute,
  RptKey,
  StationCredentials,
  StatoRptAnswer,
} from '../../pagopa/nodeClient.ts';
export { NodeUnavailable } from '../../pagopa/nodeClient.ts';

/** The node operations the legacy flows and the checkout redirect call. */
export type NodePort = Pick<
  NodeClient,
  'nodoInviaRPT' | 'nodoInviaCarrelloRPT' | 'nodoChiediStatoRPT' | 'nodoChiediCopiaRT' | 'createCheckoutCart'
>;

/**
 * The PSP an EC names in nodoInviaRPT when the citizen chooses the PSP on pagoPA's own pages (WISP,
 * later Checkout): pagoPA's published AGID_01 route.
 */
export const WISP_PSP: PspRoute = {
  idPSP: 'AGID_01',
  idBrokerPSP: '97735020584',
  idChannel: '97735020584_02',
};

/** An ente as the connector speaks for it to the node: its station, broker and password. */
export interface NodeStation {
  ente: Ente;
  station: Station;
  credentials: StationCredentials;
  /** The same identity as a NodeCaller, to run the EC-side checks on our own requests. */
  caller: NodeCaller;
}

export async function nodeStationOf(store: Store, ente: Ente): Promise<NodeStation> {
  const station = await store.stations.getById(ente.stationId);
  const broker = station ? await store.brokers.getById(station.brokerId) : null;
  if (!station || !broker) {
    throw domainError('CONFIG_INVALID', 'the ente has no station and broker to reach the node', {
      enteFiscalCode: ente.fiscalCode,
    });
  }
  return {
    ente,
    station,
    credentials: {
      brokerFiscalCode: broker.fiscalCode,
      stationId: station.stationId,
      password: station.password,
    },
    caller: {
      enteFiscalCode: ente.fiscalCode,
      brokerFiscalCode: broker.fiscalCode,
      stationId: station.stationId,
    },
  };
}

export async function nodeStationFor(store: Store, enteFiscalCode: string): Promise<NodeStation> {
  const ente = await store.enti.getByFiscalCode(enteFiscalCode);
  if (!ente || ente.status !== 'active') {
    throw domainError('ENTE_UNKNOWN', 'no active ente with this fiscal code', { enteFiscalCode });
  }
  return nodeStationOf(store, ente);
}

/** Exponential backoff: `baseMs` after the first failure, doubling, never more than `maxMs`. */
export function backoffMs(failures: number, baseMs: number, maxMs: number): number {
  if (failures <= 0) return 0;
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
}
