// The reporting flows (FlussoRiversamento) the node holds for an EC, as nodoChiediElenco- and
// nodoChiediFlussoRendicontazione read them. By default they are the flows the emulated PSPs
// produced when the day was settled (settle.ts), newest revision of each flow id; tests may plug in
// their own source.

import type { Store } from '../db/store.ts';
import { createFlowStore } from './flowStore.ts';

export interface FlowReference {
  identificativoFlusso: string;
  /** xs:dateTime, as written in the flow. */
  dataOraFlusso: string;
}

export interface FlowQuery {
  stationId: string;
  idDominio: string | null;
  idPsp: string | null;
}

export interface FlowSource {
  list(query: FlowQuery): Promise<FlowReference[]>;
  /** The FlussoRiversamento XML, or null when the node holds no such flow for this query. */
  get(query: FlowQuery, identificativoFlusso: string): Promise<string | null>;
}

export const NO_FLOWS: FlowSource = {
  list: () => Promise.resolve([]),
  get: () => Promise.resolve(null),
};

/** The ECs a query may see: those of the calling station, narrowed to idDominio when given. */
async function visibleDominii(store: Store, query: FlowQuery): Promise<string[]> {
  const station = await store.stations.getByStationId(query.stationId);
  if (!station) return [];
  const enti = (await store.enti.list()).filter((e) => e.stationId === station.id);
  const codes = enti.map((e) => e.fiscalCode);
  return query.idDominio ? codes.filter((code) => code === query.idDominio) : codes;
}

/** The flows settle.ts stored: a station sees the flows of the ECs it serves, newest revision only. */
export function storedFlows(store: Store): FlowSource {
  const flowStore = createFlowStore(store.db);
  return {
    async list(query) {
      const idDominii = await visibleDominii(store, query);
      const flows = await flowStore.flows.listLatest({ idDominii, idPsp: query.idPsp });
      return flows.map((f) => ({ identificativoFlusso: f.flowId, dataOraFlusso: f.flowDateTime }));
    },

    async get(query, identificativoFlusso) {
      const flow = await flowStore.flows.latest(identificativoFlusso, query.idPsp);
      if (!flow) return null;
      const idDominii = await visibleDominii(store, query);
      return idDominii.includes(flow.idDominio) ? flow.xml : null;
    },
  };
}
