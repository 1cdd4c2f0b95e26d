// Brokers (intermediari PA): the fiscal codes the connector answers for as idBrokerPA.

import type { Db } from '../knex.ts';
import { mapUniqueViolation } from '../errors.ts';
import { insertedId, isoNow, toInt, type Clock } from '../rows.ts';

export interface NewBroker {
  fiscalCode: string;
  name: string;
}

export interface Broker extends NewBroker {
  id: number;
  createdAt: string;
}

interface BrokerRow {
  id: number | string;
  fiscal_code: string;
  name: string;
  created_at: string;
}

function toBroker(row: BrokerRow): Broker {
  return { id: toInt(row.id), fiscalCode: row.fiscal_code, name: row.name, createdAt: row.created_at };
}

export function createBrokersRepository(db: Db, clock: Clock) {
  const getById = async (id: number): Promise<Broker | null> => {
    const row = await db<BrokerRow>('brokers').where({ id }).first();
    return row ? toBroker(row) : null;
  };

  return {
    getById,

    async create(input: NewBroker): Promise<Broker> {
      const rows = await mapUniqueViolation('DUPLICATE', { fiscalCode: input.fiscalCode }, () =>
        db('brokers')
          .insert({ fiscal_code: input.fiscalCode, name: input.name, created_at: isoNow(clock) })
          .returning('id'),
      );
      return (await getById(insertedId(rows))) as Broker;
    },

    async getByFiscalCode(fiscalCode: string): Promise<Broker | null> {
      const row = await db<BrokerRow>('brokers').where({ fiscal_code: fiscalCode }).first();
      return row ? toBroker(row) : null;
    },

    async list(): Promise<Broker[]> {
      const rows = await db<BrokerRow>('brokers').orderBy('id');
      return rows.map(toBroker);
    },
  };
}

export type BrokersRepository = ReturnType<typeof createBrokersRepository>;
