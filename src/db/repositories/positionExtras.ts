// Details of a position the gestionale API carries beyond the core position tables: its free
// metadata (key/value pairs echoed by getDebtPosition) and, for a fine, the infringement instant.

import type { Db } from '../knex.ts';
import { toInt } from '../rows.ts';

export interface MetadataEntry {
  key: string;
  value: string;
}

export interface PositionExtras {
  metadata: MetadataEntry[];
  /** xs:dateTime text as the gestionale sent it (its offset kept). */
  infringementDateTime: string | null;
}

interface ExtrasRow {
  position_id: number | string;
  metadata: string | null;
  infringement_date_time: string | null;
}

const NONE: PositionExtras = { metadata: [], infringementDateTime: null };

export function createPositionExtrasRepository(db: Db) {
  return {
    /** The extras of a position (by row id); empty when none were stored. */
    async get(positionRowId: number): Promise<PositionExtras> {
      const row = await db<ExtrasRow>('position_extras').where({ position_id: positionRowId }).first();
      if (!row) return { ...NONE, metadata: [] };
      return {
        metadata: row.metadata === null ? [] : (JSON.parse(row.metadata) as MetadataEntry[]),
        infringementDateTime: row.infringement_date_time,
      };
    },

    /** Replaces the extras of a position; pass the transaction that writes the position. */
    async set(positionRowId: number, extras: PositionExtras): Promise<void> {
      const columns = {
        metadata: extras.metadata.length ? JSON.stringify(extras.metadata) : null,
        infringement_date_time: extras.infringementDateTime,
      };
      await db('position_extras')
        .insert({ position_id: toInt(positionRowId), ...columns })
        .onConflict('position_id')
        .merge(columns);
    },
  };
}

export type PositionExtrasRepository = ReturnType<typeof createPositionExtrasRepository>;
