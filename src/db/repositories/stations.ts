// Stations (stazioni intermediario PA): the endpoints the node calls, with the password our nodo*
// calls carry and the pagoPA dialect (current SANP 3 or legacy SANP 2) the station speaks.

import type { Db } from '../knex.ts';
import { mapForeignKeyViolation, mapUniqueViolation } from '../errors.ts';
import { insertedId, isoNow, toInt, type Clock } from '../rows.ts';

export type StationDialect = 'current' | 'legacy';
export type StationStatus = 'active' | 'disabled';

export interface NewStation {
  /** The pagoPA idStation, conventionally `<broker fiscal code>_<nn>`. */
  stationId: string;
  brokerId: number;
  password: string;
  dialect: StationDialect;
  status?: StationStatus;
}

export interface Station {
  id: number;
  stationId: string;
  brokerId: number;
  password: string;
  dialect: StationDialect;
  status: StationStatus;
  createdAt: string;
}

interface StationRow {
  id: number | string;
  station_id: string;
  broker_id: number | string;
  password: string;
  dialect: StationDialect;
  status: StationStatus;
  created_at: string;
}

function toStation(row: StationRow): Station {
  return {
    id: toInt(row.id),
    stationId: row.station_id,
    brokerId: toInt(row.broker_id),
    password: row.password,
    dialect: row.dialect,
    status: row.status,
    createdAt: row.created_at,
  };
}

export function createStationsRepository(db: Db, clock: Clock) {
  const getById = async (id: number): Promise<Station | null> => {
    const row = await db<StationRow>('stations').where({ id }).first();
    return row ? toStation(row) : null;
  };

  const insert = (input: NewStation) =>
    db('stations')
      .insert({
        station_id: input.stationId,
        broker_id: input.brokerId,
        password: input.password,
        dialect: input.dialect,
        status: input.status ?? 'active',
        created_at: isoNow(clock),
      })
      .returning('id');

  return {
    getById,

    async create(input: NewStation): Promise<Station> {
      const rows = await mapUniqueViolation('DUPLICATE', { stationId: input.stationId }, () =>
        mapForeignKeyViolation('BROKER_UNKNOWN', { brokerId: input.brokerId }, () => insert(input)),
      );
      return (await getById(insertedId(rows))) as Station;
    },

    async getByStationId(stationId: string): Promise<Station | null> {
      const row = await db<StationRow>('stations').where({ station_id: stationId }).first();
      return row ? toStation(row) : null;
    },

    /** Switches the pagoPA dialect a station speaks (current SANP 3 or legacy SANP 2); false when unknown. */
    async setDialect(id: number, dialect: StationDialect): Promise<boolean> {
      const changed = await db('stations').where({ id }).update({ dialect });
      return changed > 0;
    },

    async list(): Promise<Station[]> {
      const rows = await db<StationRow>('stations').orderBy('id');
      return rows.map(toStation);
    },
  };
}

export type StationsRepository = ReturnType<typeof createStationsRepository>;
