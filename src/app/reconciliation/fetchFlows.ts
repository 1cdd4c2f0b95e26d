// Reporting flows from the node (pagopa-facts §8.3): per active ente, list the flows the node holds
// (nodoChiediElencoFlussiRendicontazione) and fetch (nodoChiediFlussoRendicontazione) only the
// revisions not stored yet; each is validated, checked to be addressed to this ente and stored whole
// with its lines in one transaction. A node failure or a bad document for one ente or flow is
// recorded (event log; INVALID_FLOW anomaly for a document that cannot be accepted) and the run goes on.

import { isDomainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { NodeClient } from '../../pagopa/nodeClient.ts';
import { readFlussoRiversamento } from '../../pagopa/flussoRiversamento.ts';
import type { FlowDocument } from '../../reconciliation/model.ts';
import { compareFlowDateTimes, invalidFlowSubject } from '../../reconciliation/matching.ts';
import { nodeStationOf, NodeUnavailable, type NodeStation } from '../pagopa/nodePort.ts';

/** The node operations this job calls (src/pagopa/nodeClient.ts implements them). */
export type FlowNodePort = Pick<
  NodeClient,
  'nodoChiediElencoFlussiRendicontazione' | 'nodoChiediFlussoRendicontazione'
>;

export const FLOW_FETCH_ACTOR = 'reconciliation';
const ENTE = 'ente';

export interface FetchFlowsOptions {
  /** Only this ente (fiscal code); all active enti otherwise. */
  enteFiscalCode?: string;
  actor?: string;
}

export interface FetchFailure {
  enteFiscalCode: string;
  flowId: string | null;
  reason: string;
}

export interface FetchFlowsSummary {
  enti: number;
  /** Flow revisions the node listed. */
  listed: number;
  /** Flows downloaded. */
  fetched: number;
  /** Revisions stored now (a newer revision of a stored flow counts here too). */
  stored: number;
  /** Of those, revisions that replaced an older one as the latest. */
  revisions: number;
  /** Documents refused (INVALID_FLOW). */
  invalid: number;
  failures: FetchFailure[];
}

function emptySummary(): FetchFlowsSummary {
  return { enti: 0, listed: 0, fetched: 0, stored: 0, revisions: 0, invalid: 0, failures: [] };
}

async function targetEnti(store: Store, enteFiscalCode: string | undefined): Promise<Ente[]> {
  const enti = (await store.enti.list()).filter((e) => e.status === 'active');
  return enteFiscalCode === undefined ? enti : enti.filter((e) => e.fiscalCode === enteFiscalCode);
}

async function recordFailure(
  store: Store,
  summary: FetchFlowsSummary,
  failure: FetchFailure,
  actor: string,
): Promise<void> {
  summary.failures.push(failure);
  await store.events.append({
    entityType: ENTE,
    entityId: failure.enteFiscalCode,
    action: 'flow_fetch_failed',
    cause: failure.reason,
    actor,
    payload: { flowId: failure.flowId },
  });
}

/** A flow id + revision already stored, or as recent a revision of it: nothing to fetch. */
async function alreadyStored(
  store: Store,
  enteId: number,
  flowId: string,
  flowDateTime: string,
): Promise<boolean> {
  const revisions = await store.reconciliationFlows.listRevisions(enteId, flowId);
  return revisions.some((r) => compareFlowDateTimes(r.flowDateTime, flowDateTime) >= 0);
}

/** A document refused for this listing was recorded already: it is not downloaded again. */
async function knownInvalid(
  store: Store,
  enteId: number,
  flowId: string,
  flowDateTime: string,
): Promise<boolean> {
  return (
    (await store.anomalies.find(enteId, 'INVALID_FLOW', invalidFlowSubject(flowId, flowDateTime))) !== null
  );
}

async function recordInvalid(
  store: Store,
  ente: Ente,
  listed: { flowId: string; flowDateTime: string },
  reason: string,
  actor: string,
): Promise<void> {
  const subjectKey = invalidFlowSubject(listed.flowId, listed.flowDateTime);
  if (await store.anomalies.find(ente.id, 'INVALID_FLOW', subjectKey)) return;
  await store.anomalies.open(
    {
      enteId: ente.id,
      code: 'INVALID_FLOW',
      subjectKey,
      description: `flow ${listed.flowId} (${listed.flowDateTime}) refused: ${reason}`.slice(0, 1024),
      flowId: listed.flowId,
      pspId: null,
      iuv: null,
      iur: null,
      positionId: null,
      noticeNumber: null,
      amountCents: null,
      expectedAmountCents: null,
    },
    { cause: `nodoChiediFlussoRendicontazione ${listed.flowId}: ${reason}`.slice(0, 1024), actor },
  );
}

/** Why a document that passed the schema still cannot be this ente's flow; null when it can. */
function mismatch(doc: FlowDocument, ente: Ente, flowId: string): string | null {
  if (doc.flowId !== flowId) return `the node sent flow ${doc.flowId} for ${flowId}`;
  if (doc.receiver.id !== ente.fiscalCode)
    return `the flow is addressed to ${doc.receiver.id}, not ${ente.fiscalCode}`;
  return null;
}

async function fetchOne(
  store: Store,
  node: FlowNodePort,
  station: NodeStation,
  listed: { flowId: string; flowDateTime: string },
  summary: FetchFlowsSummary,
  actor: string,
): Promise<void> {
  const { ente } = station;
  const answer = await node.nodoChiediFlussoRendicontazione(station.credentials, {
    idDominio: ente.fiscalCode,
    flowId: listed.flowId,
  });
  if (answer.xml === null) {
    const reason = answer.fault
      ? `${answer.fault.faultCode}: ${answer.fault.description ?? answer.fault.faultString}`
      : 'no flow in the answer';
    await recordFailure(
      store,
      summary,
      { enteFiscalCode: ente.fiscalCode, flowId: listed.flowId, reason },
      actor,
    );
    return;
  }
  summary.fetched += 1;
  let doc: FlowDocument;
  try {
    doc = readFlussoRiversamento(answer.xml);
  } catch (err) {
    if (!isDomainError(err, 'INVALID_DOCUMENT')) throw err;
    summary.invalid += 1;
    await recordInvalid(store, ente, listed, err.message, actor);
    return;
  }
  const wrong = mismatch(doc, ente, listed.flowId);
  if (wrong !== null) {
    summary.invalid += 1;
    await recordInvalid(store, ente, listed, wrong, actor);
    return;
  }
  const inserted = await store.reconciliationFlows.insertRevision(ente.id, doc, answer.xml, {
    cause: `nodoChiediFlussoRendicontazione ${doc.flowId} (${doc.flowDateTime})`,
    actor,
  });
  if (!inserted.created) return;
  summary.stored += 1;
  if (inserted.superseded) summary.revisions += 1;
}

async function fetchForEnte(
  store: Store,
  node: FlowNodePort,
  ente: Ente,
  summary: FetchFlowsSummary,
  actor: string,
): Promise<void> {
  const station = await nodeStationOf(store, ente);
  const list = await node.nodoChiediElencoFlussiRendicontazione(station.credentials, {
    idDominio: ente.fiscalCode,
  });
  if (list.fault) {
    const reason = `${list.fault.faultCode}: ${list.fault.description ?? list.fault.faultString}`;
    await recordFailure(store, summary, { enteFiscalCode: ente.fiscalCode, flowId: null, reason }, actor);
    return;
  }
  summary.listed += list.flows.length;
  for (const listed of list.flows) {
    if (await alreadyStored(store, ente.id, listed.flowId, listed.flowDateTime)) continue;
    if (await knownInvalid(store, ente.id, listed.flowId, listed.flowDateTime)) continue;
    try {
      await fetchOne(store, node, station, listed, summary, actor);
    } catch (err) {
      if (!(err instanceof NodeUnavailable)) throw err;
      await recordFailure(
        store,
        summary,
        { enteFiscalCode: ente.fiscalCode, flowId: listed.flowId, reason: err.reason },
        actor,
      );
    }
  }
}

/** One pass over the enti: incremental (only new revisions are fetched) and idempotent. */
export async function fetchFlows(
  store: Store,
  node: FlowNodePort,
  options: FetchFlowsOptions = {},
): Promise<FetchFlowsSummary> {
  const actor = options.actor ?? FLOW_FETCH_ACTOR;
  const summary = emptySummary();
  for (const ente of await targetEnti(store, options.enteFiscalCode)) {
    summary.enti += 1;
    try {
      await fetchForEnte(store, node, ente, summary, actor);
    } catch (err) {
      if (err instanceof NodeUnavailable) {
        await recordFailure(
          store,
          summary,
          { enteFiscalCode: ente.fiscalCode, flowId: null, reason: err.reason },
          actor,
        );
      } else if (isDomainError(err, 'CONFIG_INVALID')) {
        await recordFailure(
          store,
          summary,
          { enteFiscalCode: ente.fiscalCode, flowId: null, reason: err.message },
          actor,
        );
      } else {
        throw err;
      }
    }
  }
  return summary;
}
