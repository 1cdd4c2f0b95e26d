// The spontaneous-payment form of a service (migration 0019): what a citizen fills on the public
// page /pay/spontaneo/<ente>/<service> before paying or printing a notice.

import type { Db } from '../knex.ts';
import { isoNow, toBool, toInt, toIntOrNull, type Clock } from '../rows.ts';

export type SpontaneousFieldType = 'text' | 'date' | 'number' | 'select';

/** One extra field the citizen fills; its value is stored in the position's metadata under `key`. */
export interface SpontaneousField {
  key: string;
  label: string;
  type: SpontaneousFieldType;
  required: boolean;
  /** The choices of a select field. */
  options?: string[] | undefined;
  maxLength?: number | undefined;
}

export interface SpontaneousForm {
  serviceId: number;
  title: string;
  instructions: string | null;
  fixedAmountCents: number | null;
  minAmountCents: number | null;
  maxAmountCents: number | null;
  fields: SpontaneousField[];
  enabled: boolean;
  updatedAt: string;
}

interface FormRow {
  service_id: number | string;
  title: string;
  instructions: string | null;
  fixed_amount_cents: number | string | null;
  min_amount_cents: number | string | null;
  max_amount_cents: number | string | null;
  fields: string;
  enabled: boolean | number;
  updated_at: string;
}

function toForm(row: FormRow): SpontaneousForm {
  return {
    serviceId: toInt(row.service_id),
    title: row.title,
    instructions: row.instructions,
    fixedAmountCents: toIntOrNull(row.fixed_amount_cents),
    minAmountCents: toIntOrNull(row.min_amount_cents),
    maxAmountCents: toIntOrNull(row.max_amount_cents),
    fields: JSON.parse(row.fields) as SpontaneousField[],
    enabled: toBool(row.enabled),
    updatedAt: row.updated_at,
  };
}

export function createSpontaneousFormsRepository(db: Db, clock: Clock) {
  return {
    async get(serviceId: number): Promise<SpontaneousForm | null> {
      const row = await db<FormRow>('spontaneous_forms').where({ service_id: serviceId }).first();
      return row ? toForm(row) : null;
    },

    /** Every form of the ente's services, with the service code. */
    async listByEnte(enteId: number): Promise<Array<SpontaneousForm & { serviceCode: string }>> {
      const rows = await db('spontaneous_forms as f')
        .join('services as s', 's.id', 'f.service_id')
        .where('s.ente_id', enteId)
        .orderBy('s.code')
        .select<Array<FormRow & { code: string }>>('f.*', 's.code');
      return rows.map((row) => ({ ...toForm(row), serviceCode: row.code }));
    },

    async save(form: Omit<SpontaneousForm, 'updatedAt'>): Promise<SpontaneousForm> {
      const row = {
        service_id: form.serviceId,
        title: form.title,
        instructions: form.instructions,
        fixed_amount_cents: form.fixedAmountCents,
        min_amount_cents: form.minAmountCents,
        max_amount_cents: form.maxAmountCents,
        fields: JSON.stringify(form.fields),
        enabled: form.enabled,
        updated_at: isoNow(clock),
      };
      await db('spontaneous_forms').insert(row).onConflict('service_id').merge();
      return (await this.get(form.serviceId)) as SpontaneousForm;
    },
  };
}

export type SpontaneousFormsRepository = ReturnType<typeof createSpontaneousFormsRepository>;
