// Queries of the portal's spontaneous payments (issue 8 item 4) that the services and forms
// repositories do not have: switching a service's `spontaneous` flag, and the enabled forms the
// public page /pay/spontaneo lists (active enti and services only).

import type { Db } from '../knex.ts';
import { toInt } from '../rows.ts';

/** One form a citizen may fill: its ente, its service and what the list shows. */
export interface PublicSpontaneousEntry {
  enteId: number;
  enteFiscalCode: string;
  enteName: string;
  serviceId: number;
  serviceCode: string;
  serviceDescription: string;
  title: string;
}

interface EntryRow {
  ente_id: number | string;
  fiscal_code: string;
  ente_name: string;
  service_id: number | string;
  code: string;
  description: string;
  title: string;
}

export function createPortalSpontaneousRepository(db: Db) {
  return {
    /** Sets services.spontaneous; false when no such service. */
    async setServiceSpontaneous(serviceId: number, spontaneous: boolean): Promise<boolean> {
      const changed = await db('services').where({ id: serviceId }).update({ spontaneous });
      return changed > 0;
    },

    /** Enabled forms of active services of active enti, by ente name then service code. */
    async listEnabled(filter: { enteFiscalCode?: string } = {}): Promise<PublicSpontaneousEntry[]> {
      const query = db('spontaneous_forms as f')
        .join('services as s', 's.id', 'f.service_id')
        .join('enti as e', 'e.id', 's.ente_id')
        .where('f.enabled', true)
        .andWhere('s.status', 'active')
        .andWhere('e.status', 'active');
      if (filter.enteFiscalCode !== undefined) query.andWhere('e.fiscal_code', filter.enteFiscalCode);
      const rows = await query
        .orderBy([
          { column: 'e.name', order: 'asc' },
          { column: 'e.fiscal_code', order: 'asc' },
          { column: 's.code', order: 'asc' },
        ])
        .select<EntryRow[]>(
          'e.id as ente_id',
          'e.fiscal_code',
          'e.name as ente_name',
          's.id as service_id',
          's.code',
          's.description',
          'f.title',
        );
      return rows.map((row) => ({
        enteId: toInt(row.ente_id),
        enteFiscalCode: row.fiscal_code,
        enteName: row.ente_name,
        serviceId: toInt(row.service_id),
        serviceCode: row.code,
        serviceDescription: row.description,
        title: row.title,
      }));
    },
  };
}

export type PortalSpontaneousRepository = ReturnType<typeof createPortalSpontaneousRepository>;
