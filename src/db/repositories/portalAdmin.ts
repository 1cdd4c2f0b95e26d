// Queries and updates of the portal's administration pages (issue 8 item 2) that the registry
// repositories do not offer: lists of gestionale clients with their enti, who is bound to an ente,
// service edits and status, a client's new password hash, a station's status.

import type { Db } from '../knex.ts';
import { toInt } from '../rows.ts';
import type { ClientStatus } from './clients.ts';
import type { ServiceStatus } from './services.ts';
import type { StationStatus } from './stations.ts';

export interface ClientSummary {
  id: number;
  username: string;
  name: string;
  status: ClientStatus;
  createdAt: string;
  revokedAt: string | null;
  callbackUrl: string | null;
  /** Fiscal codes of the enti it is bound to, sorted. */
  enti: string[];
}

export interface ServiceChanges {
  description: string;
  category: string;
  iban: string | null;
  pagopaServiceId: string | null;
}

interface ClientListRow {
  id: number | string;
  username: string;
  name: string;
  status: ClientStatus;
  created_at: string;
  revoked_at: string | null;
  callback_url: string | null;
}

interface ClientEnteRow {
  client_id: number | string;
  fiscal_code: string;
}

export function createPortalAdmin(db: Db) {
  /** The bound enti of the given clients, by client id. */
  const entiOf = async (clientIds: number[]): Promise<Map<number, string[]>> => {
    const byClient = new Map<number, string[]>();
    if (clientIds.length === 0) return byClient;
    const rows = await db<ClientEnteRow>('client_enti as ce')
      .join('enti as e', 'e.id', 'ce.ente_id')
      .whereIn('ce.client_id', clientIds)
      .select('ce.client_id', 'e.fiscal_code')
      .orderBy('e.fiscal_code');
    for (const row of rows) {
      const id = toInt(row.client_id);
      byClient.set(id, [...(byClient.get(id) ?? []), row.fiscal_code]);
    }
    return byClient;
  };

  const summaries = async (rows: ClientListRow[]): Promise<ClientSummary[]> => {
    const enti = await entiOf(rows.map((r) => toInt(r.id)));
    return rows.map((r) => ({
      id: toInt(r.id),
      username: r.username,
      name: r.name,
      status: r.status,
      createdAt: r.created_at,
      revokedAt: r.revoked_at,
      callbackUrl: r.callback_url,
      enti: enti.get(toInt(r.id)) ?? [],
    }));
  };

  const CLIENT_COLUMNS: string[] = [
    'c.id',
    'c.username',
    'c.name',
    'c.status',
    'c.created_at',
    'c.revoked_at',
    'c.callback_url',
  ];

  return {
    /** Every gestionale client (never its password hash), by username. */
    async listClients(): Promise<ClientSummary[]> {
      const rows: ClientListRow[] = await db('gestionale_clients as c')
        .select(CLIENT_COLUMNS)
        .orderBy('c.username');
      return summaries(rows);
    },

    /** The clients bound to one ente. */
    async clientsOfEnte(enteId: number): Promise<ClientSummary[]> {
      const rows: ClientListRow[] = await db('gestionale_clients as c')
        .join('client_enti as ce', 'ce.client_id', 'c.id')
        .where('ce.ente_id', enteId)
        .select(CLIENT_COLUMNS)
        .orderBy('c.username');
      return summaries(rows);
    },

    /** Service codes (with their ente's fiscal code) a client is bound to. */
    async servicesOfClient(clientId: number): Promise<Array<{ enteFiscalCode: string; code: string }>> {
      const rows = await db('client_services as cs')
        .join('services as s', 's.id', 'cs.service_id')
        .join('enti as e', 'e.id', 's.ente_id')
        .where('cs.client_id', clientId)
        .select('e.fiscal_code', 's.code')
        .orderBy([{ column: 'e.fiscal_code' }, { column: 's.code' }]);
      return rows.map((r: { fiscal_code: string; code: string }) => ({
        enteFiscalCode: r.fiscal_code,
        code: r.code,
      }));
    },

    /** Replaces a client's password hash; false when the client is unknown. */
    async setClientPasswordHash(clientId: number, passwordHash: string): Promise<boolean> {
      const changed = await db('gestionale_clients')
        .where({ id: clientId })
        .update({ password_hash: passwordHash });
      return changed > 0;
    },

    async updateService(serviceId: number, changes: ServiceChanges): Promise<boolean> {
      const changed = await db('services').where({ id: serviceId }).update({
        description: changes.description,
        category: changes.category,
        iban: changes.iban,
        pagopa_service_id: changes.pagopaServiceId,
      });
      return changed > 0;
    },

    async setServicePagopaId(serviceId: number, pagopaServiceId: string | null): Promise<boolean> {
      const changed = await db('services')
        .where({ id: serviceId })
        .update({ pagopa_service_id: pagopaServiceId });
      return changed > 0;
    },

    async setServiceStatus(serviceId: number, status: ServiceStatus): Promise<boolean> {
      const changed = await db('services').where({ id: serviceId }).update({ status });
      return changed > 0;
    },

    async setStationStatus(stationId: number, status: StationStatus): Promise<boolean> {
      const changed = await db('stations').where({ id: stationId }).update({ status });
      return changed > 0;
    },

    /** How many enti use each station, by station row id. */
    async entiPerStation(): Promise<Map<number, number>> {
      const rows: Array<{ station_id: number | string; n: number | string }> = await db('enti')
        .select('station_id')
        .count({ n: '*' })
        .groupBy('station_id');
      return new Map(rows.map((r) => [toInt(r.station_id), toInt(r.n)] as const));
    },

    /** Ends every session of a portal user (after an admin resets its password). */
    async endSessionsOf(userId: number): Promise<number> {
      return db('portal_sessions').where({ user_id: userId }).delete();
    },

    async findUserIdByUsername(username: string): Promise<number | null> {
      const row = await db('portal_users').where({ username }).first('id');
      return row ? toInt(row.id as number | string) : null;
    },
  };
}

export type PortalAdmin = ReturnType<typeof createPortalAdmin>;
