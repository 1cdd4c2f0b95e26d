// Gestionale credentials: the salted password hash (hashing happens in the app layer) and the enti,
// services and integration models each credential is bound to (DESIGN.md §9).

import type { Db } from '../knex.ts';
import { mapForeignKeyViolation, mapUniqueViolation } from '../errors.ts';
import { appendEvent } from './events.ts';
import { inTransaction, insertedId, isoNow, toInt, type Clock } from '../rows.ts';

export const INTEGRATION_MODELS = ['base', 'multe', 'async', 'sync'] as const;
export type IntegrationModel = (typeof INTEGRATION_MODELS)[number];
export type ClientStatus = 'active' | 'revoked';

export interface ClientBindings {
  enteIds: number[];
  serviceIds: number[];
  models: IntegrationModel[];
}

export interface ClientEndpoints {
  /** The gestionale's callback endpoint (wsdl/gestionale-callback.wsdl); null: no callbacks. */
  callbackUrl: string | null;
  /** Prefixes a citizen's return URL must start with (scheme://host[:port][/path]). */
  returnUrlPrefixes: string[];
}

export interface NewClient extends ClientBindings {
  username: string;
  passwordHash: string;
  name: string;
  callbackUrl?: string | null;
  returnUrlPrefixes?: string[];
}

export interface Client {
  id: number;
  username: string;
  passwordHash: string;
  name: string;
  status: ClientStatus;
  createdAt: string;
  revokedAt: string | null;
  callbackUrl: string | null;
  returnUrlPrefixes: string[];
}

export interface RevokeOptions {
  cause: string;
  actor: string;
}

interface ClientRow {
  id: number | string;
  username: string;
  password_hash: string;
  name: string;
  status: ClientStatus;
  created_at: string;
  revoked_at: string | null;
  callback_url: string | null;
  return_url_prefixes: string | null;
}

interface ClientEnteRow {
  client_id: number | string;
  ente_id: number | string;
}

interface ClientServiceRow {
  client_id: number | string;
  service_id: number | string;
}

interface ClientModelRow {
  client_id: number | string;
  model: IntegrationModel;
}

function toClient(row: ClientRow): Client {
  return {
    id: toInt(row.id),
    username: row.username,
    passwordHash: row.password_hash,
    name: row.name,
    status: row.status,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    callbackUrl: row.callback_url,
    returnUrlPrefixes: row.return_url_prefixes ? (JSON.parse(row.return_url_prefixes) as string[]) : [],
  };
}

async function insertBindings(db: Db, clientId: number, bindings: ClientBindings): Promise<void> {
  const enti = bindings.enteIds.map((enteId) => ({ client_id: clientId, ente_id: enteId }));
  const services = bindings.serviceIds.map((serviceId) => ({ client_id: clientId, service_id: serviceId }));
  const models = bindings.models.map((model) => ({ client_id: clientId, model }));
  if (enti.length > 0) await db('client_enti').insert(enti);
  if (services.length > 0) await db('client_services').insert(services);
  if (models.length > 0) await db('client_models').insert(models);
}

export function createClientsRepository(db: Db, clock: Clock) {
  const getById = async (id: number): Promise<Client | null> => {
    const row = await db<ClientRow>('gestionale_clients').where({ id }).first();
    return row ? toClient(row) : null;
  };

  const insert = (input: NewClient): Promise<number> =>
    inTransaction(db, async (trx) => {
      const rows = await trx('gestionale_clients')
        .insert({
          username: input.username,
          password_hash: input.passwordHash,
          name: input.name,
          status: 'active',
          created_at: isoNow(clock),
          callback_url: input.callbackUrl ?? null,
          return_url_prefixes: input.returnUrlPrefixes?.length
            ? JSON.stringify(input.returnUrlPrefixes)
            : null,
        })
        .returning('id');
      const id = insertedId(rows);
      await insertBindings(trx, id, input);
      return id;
    });

  return {
    getById,

    /** Creates the credential and its bindings together; a taken username is CLIENT_DUPLICATE. */
    async create(input: NewClient): Promise<Client> {
      const id = await mapUniqueViolation('CLIENT_DUPLICATE', { username: input.username }, () =>
        mapForeignKeyViolation('ENTE_UNKNOWN', { username: input.username }, () => insert(input)),
      );
      return (await getById(id)) as Client;
    },

    /** Sets where callbacks go and which return URLs are allowed; false when the client is unknown. */
    async setEndpoints(id: number, endpoints: ClientEndpoints): Promise<boolean> {
      const changed = await db('gestionale_clients')
        .where({ id })
        .update({
          callback_url: endpoints.callbackUrl,
          return_url_prefixes: endpoints.returnUrlPrefixes.length
            ? JSON.stringify(endpoints.returnUrlPrefixes)
            : null,
        });
      return changed > 0;
    },

    /** Active clients bound to both the ente and the service that have a callback URL (who gets notifyPayment). */
    async listCallbackTargets(enteId: number, serviceId: number): Promise<Client[]> {
      const rows = await db<ClientRow>('gestionale_clients as c')
        .select('c.*')
        .join('client_enti as e', 'e.client_id', 'c.id')
        .join('client_services as s', 's.client_id', 'c.id')
        .where({ 'c.status': 'active', 'e.ente_id': enteId, 's.service_id': serviceId })
        .whereNotNull('c.callback_url')
        .orderBy('c.id');
      return rows.map(toClient);
    },

    async findByUsername(username: string): Promise<Client | null> {
      const row = await db<ClientRow>('gestionale_clients').where({ username }).first();
      return row ? toClient(row) : null;
    },

    /** Revokes an active credential; false when it is unknown or already revoked. */
    revoke(id: number, opts: RevokeOptions): Promise<boolean> {
      return inTransaction(db, async (trx) => {
        const changed = await trx('gestionale_clients')
          .where({ id, status: 'active' })
          .update({ status: 'revoked', revoked_at: isoNow(clock) });
        if (changed === 0) return false;
        await appendEvent(trx, clock, {
          entityType: 'client',
          entityId: id,
          action: 'revoked',
          fromStatus: 'active',
          toStatus: 'revoked',
          ...opts,
        });
        return true;
      });
    },

    async bindings(clientId: number): Promise<ClientBindings> {
      const enti = await db<ClientEnteRow>('client_enti').where({ client_id: clientId });
      const services = await db<ClientServiceRow>('client_services').where({ client_id: clientId });
      const models = await db<ClientModelRow>('client_models').where({ client_id: clientId });
      return {
        enteIds: enti.map((r) => toInt(r.ente_id)).sort((a, b) => a - b),
        serviceIds: services.map((r) => toInt(r.service_id)).sort((a, b) => a - b),
        models: models.map((r) => r.model).sort(),
      };
    },
  };
}

export type ClientsRepository = ReturnType<typeof createClientsRepository>;
