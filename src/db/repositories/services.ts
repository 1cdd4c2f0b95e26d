// Services (tipi dovuto) of an ente: what a position is for, its causale, taxonomy category and IBAN,
// and whether citizens may pay it spontaneously (paDemandPaymentNotice, pagoPA idServizio).

import type { Db } from '../knex.ts';
import { mapForeignKeyViolation, mapUniqueViolation } from '../errors.ts';
import { insertedId, isoNow, toBool, toInt, type Clock } from '../rows.ts';

export type ServiceStatus = 'active' | 'disabled';

export interface NewService {
  enteId: number;
  /** The ente's own code for the tipo dovuto, unique within the ente. */
  code: string;
  description: string;
  /** Taxonomy code (transferCategory), e.g. `9/0101108TS/`. */
  category: string;
  iban?: string | null;
  spontaneous?: boolean;
  /** pagoPA idServizio (5 characters) for spontaneous payments. */
  pagopaServiceId?: string | null;
  status?: ServiceStatus;
}

export interface Service {
  id: number;
  enteId: number;
  code: string;
  description: string;
  category: string;
  iban: string | null;
  spontaneous: boolean;
  pagopaServiceId: string | null;
  status: ServiceStatus;
  createdAt: string;
}

interface ServiceRow {
  id: number | string;
  ente_id: number | string;
  code: string;
  description: string;
  category: string;
  iban: string | null;
  spontaneous: boolean | number;
  pagopa_service_id: string | null;
  status: ServiceStatus;
  created_at: string;
}

function toService(row: ServiceRow): Service {
  return {
    id: toInt(row.id),
    enteId: toInt(row.ente_id),
    code: row.code,
    description: row.description,
    category: row.category,
    iban: row.iban,
    spontaneous: toBool(row.spontaneous),
    pagopaServiceId: row.pagopa_service_id,
    status: row.status,
    createdAt: row.created_at,
  };
}

export function createServicesRepository(db: Db, clock: Clock) {
  const getById = async (id: number): Promise<Service | null> => {
    const row = await db<ServiceRow>('services').where({ id }).first();
    return row ? toService(row) : null;
  };

  const insert = (input: NewService) =>
    db('services')
      .insert({
        ente_id: input.enteId,
        code: input.code,
        description: input.description,
        category: input.category,
        iban: input.iban ?? null,
        spontaneous: input.spontaneous ?? false,
        pagopa_service_id: input.pagopaServiceId ?? null,
        status: input.status ?? 'active',
        created_at: isoNow(clock),
      })
      .returning('id');

  return {
    getById,

    async create(input: NewService): Promise<Service> {
      const details = { enteId: input.enteId, code: input.code };
      const rows = await mapUniqueViolation('SERVICE_DUPLICATE', details, () =>
        mapForeignKeyViolation('ENTE_UNKNOWN', details, () => insert(input)),
      );
      return (await getById(insertedId(rows))) as Service;
    },

    async get(enteId: number, code: string): Promise<Service | null> {
      const row = await db<ServiceRow>('services').where({ ente_id: enteId, code }).first();
      return row ? toService(row) : null;
    },

    async listByEnte(enteId: number): Promise<Service[]> {
      const rows = await db<ServiceRow>('services').where({ ente_id: enteId }).orderBy('code');
      return rows.map(toService);
    },
  };
}

export type ServicesRepository = ReturnType<typeof createServicesRepository>;
