// Answers of gestionale requests keyed by the caller's requestId (requestIUV, requestIUVBatch,
// reserveNotices): a retry with the same requestId gets the stored answer instead of new numbers.
// Unique per (ente, requestId); the content hash tells a retry from a reuse of the id.

import type { Db } from '../knex.ts';
import { mapUniqueViolation } from '../errors.ts';
import { isoNow, toInt, toIntOrNull, type Clock } from '../rows.ts';

export interface NewGestionaleRequest {
  enteId: number;
  requestId: string;
  operation: string;
  clientId: number | null;
  requestHash: string;
  answer: unknown;
}

export interface GestionaleRequest {
  enteId: number;
  requestId: string;
  operation: string;
  clientId: number | null;
  requestHash: string;
  answer: unknown;
  createdAt: string;
}

interface RequestRow {
  ente_id: number | string;
  request_id: string;
  operation: string;
  client_id: number | string | null;
  request_hash: string;
  answer: string;
  created_at: string;
}

function toRequest(row: RequestRow): GestionaleRequest {
  return {
    enteId: toInt(row.ente_id),
    requestId: row.request_id,
    operation: row.operation,
    clientId: toIntOrNull(row.client_id),
    requestHash: row.request_hash,
    answer: JSON.parse(row.answer) as unknown,
    createdAt: row.created_at,
  };
}

export function createGestionaleRequestsRepository(db: Db, clock: Clock) {
  return {
    async find(enteId: number, requestId: string): Promise<GestionaleRequest | null> {
      const row = await db<RequestRow>('gestionale_requests')
        .where({ ente_id: enteId, request_id: requestId })
        .first();
      return row ? toRequest(row) : null;
    },

    /** Stores the answer of a request; an existing (ente, requestId) is MESSAGE_DUPLICATE. */
    async insert(input: NewGestionaleRequest): Promise<void> {
      const details = { enteId: input.enteId, requestId: input.requestId };
      await mapUniqueViolation('MESSAGE_DUPLICATE', details, () =>
        db('gestionale_requests').insert({
          ente_id: input.enteId,
          request_id: input.requestId,
          operation: input.operation,
          client_id: input.clientId,
          request_hash: input.requestHash,
          answer: JSON.stringify(input.answer),
          created_at: isoNow(clock),
        }),
      );
    },
  };
}

export type GestionaleRequestsRepository = ReturnType<typeof createGestionaleRequestsRepository>;
