// Enti creditori served by the intermediary: fiscal code, station, and how their notice numbers are
// made (aux digit, segregation / application code, pagopa-facts §2).

import type { Db } from '../knex.ts';
import { mapForeignKeyViolation, mapUniqueViolation } from '../errors.ts';
import { insertedId, isoNow, toInt, type Clock } from '../rows.ts';

export type EnteStatus = 'active' | 'disabled';

export interface NewEnte {
  fiscalCode: string;
  name: string;
  stationId: number;
  /** Defaults to 3, the only aux digit allowed for new set-ups. */
  auxDigit?: number;
  segregationCode?: string | null;
  applicationCode?: string | null;
  iban?: string | null;
  status?: EnteStatus;
}

export interface Ente {
  id: number;
  fiscalCode: string;
  name: string;
  stationId: number;
  auxDigit: number;
  segregationCode: string | null;
  applicationCode: string | null;
  iban: string | null;
  status: EnteStatus;
  createdAt: string;
}

interface EnteRow {
  id: number | string;
  fiscal_code: string;
  name: string;
  station_id: number | string;
  aux_digit: number | string;
  segregation_code: string | null;
  application_code: string | null;
  iban: string | null;
  status: EnteStatus;
  created_at: string;
}

function toEnte(row: EnteRow): Ente {
  return {
    id: toInt(row.id),
    fiscalCode: row.fiscal_code,
    name: row.name,
    stationId: toInt(row.station_id),
    auxDigit: toInt(row.aux_digit),
    segregationCode: row.segregation_code,
    applicationCode: row.application_code,
    iban: row.iban,
    status: row.status,
    createdAt: row.created_at,
  };
}

export function createEntiRepository(db: Db, clock: Clock) {
  const getById = async (id: number): Promise<Ente | null> => {
    const row = await db<EnteRow>('enti').where({ id }).first();
    return row ? toEnte(row) : null;
  };

  const insert = (input: NewEnte) =>
    db('enti')
      .insert({
        fiscal_code: input.fiscalCode,
        name: input.name,
        station_id: input.stationId,
        aux_digit: input.auxDigit ?? 3,
        segregation_code: input.segregationCode ?? null,
        application_code: input.applicationCode ?? null,
        iban: input.iban ?? null,
        status: input.status ?? 'active',
        created_at: isoNow(clock),
      })
      .returning('id');

  return {
    getById,

    async create(input: NewEnte): Promise<Ente> {
      const rows = await mapUniqueViolation('ENTE_DUPLICATE', { fiscalCode: input.fiscalCode }, () =>
        mapForeignKeyViolation('STATION_UNKNOWN', { stationId: input.stationId }, () => insert(input)),
      );
      return (await getById(insertedId(rows))) as Ente;
    },

    /** The ente with this fiscal code, or null: an unknown ente is an answer, not an error, here. */
    async getByFiscalCode(fiscalCode: string): Promise<Ente | null> {
      const row = await db<EnteRow>('enti').where({ fiscal_code: fiscalCode }).first();
      return row ? toEnte(row) : null;
    },

    async list(): Promise<Ente[]> {
      const rows = await db<EnteRow>('enti').orderBy('fiscal_code');
      return rows.map(toEnte);
    },

    async setStatus(id: number, status: EnteStatus): Promise<boolean> {
      const changed = await db('enti').where({ id }).update({ status });
      return changed > 0;
    },
  };
}

export type EntiRepository = ReturnType<typeof createEntiRepository>;
