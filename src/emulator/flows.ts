// The reporting flows (FlussoRiversamento) the node holds for an EC, as nodoChiediElenco- and
// nodoChiediFlussoRendicontazione read them. The emulator produces none yet: the reconciliation
// work (daily flows per PSP and EC, DESIGN §5) plugs its own source in here.

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
