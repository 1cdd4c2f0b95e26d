// The operator's side of reconciliation anomalies (`ppay anomalies`): list them for one ente or all,
// and resolve one by hand with a note. A MANUAL resolution sticks: later runs that still find the
// same fact leave it resolved (src/reconciliation/matching.ts planAnomalies).

import { domainError } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { StoredAnomaly } from '../../db/repositories/anomalies.ts';

export interface AnomalyQuery {
  enteFiscalCode?: string;
  /** Resolved ones too; open only by default. */
  all?: boolean;
}

export async function findAnomalies(store: Store, query: AnomalyQuery = {}): Promise<StoredAnomaly[]> {
  let enteId: number | undefined;
  if (query.enteFiscalCode !== undefined) {
    const ente = await store.enti.getByFiscalCode(query.enteFiscalCode);
    if (!ente) {
      throw domainError('ENTE_UNKNOWN', `no ente ${query.enteFiscalCode}`, {
        enteFiscalCode: query.enteFiscalCode,
      });
    }
    enteId = ente.id;
  }
  return store.anomalies.list({ enteId, status: query.all ? undefined : 'OPEN' });
}

/**
 * Resolves an open anomaly by hand; the note says why (required). The flow it belongs to takes its
 * new status at the next reconciliation run. An anomaly already resolved is INVALID_STATE_TRANSITION.
 */
export async function resolveAnomaly(
  store: Store,
  id: number,
  note: string,
  actor: string,
): Promise<StoredAnomaly> {
  const text = note.trim();
  if (text === '') throw domainError('INVALID_INPUT', 'a note saying why is required', { field: 'note' });
  const anomaly = await store.anomalies.require(id);
  if (anomaly.status !== 'OPEN') {
    throw domainError('INVALID_STATE_TRANSITION', `anomaly ${id} is already resolved`, {
      from: anomaly.status,
      to: 'RESOLVED',
    });
  }
  const done = await store.anomalies.resolve(anomaly, 'MANUAL', text.slice(0, 1024), {
    cause: `resolved by hand: ${text}`.slice(0, 1024),
    actor,
  });
  if (!done) throw domainError('CONCURRENT_UPDATE', `anomaly ${id} changed meanwhile`, { id });
  return store.anomalies.require(id);
}
