// The connector admin's use cases behind the portal's administration pages and `ppay user`
// (issue 8 item 2): brokers, stations, enti, services, gestionale clients and portal users. Each
// change and its event are written in one transaction, with the actor; no event or cause ever
// carries a password (generated ones are returned to the caller, to be shown once).

import { domainError } from '../../domain/errors.ts';
import { parseEnteFiscalCode } from '../../domain/fiscalCode.ts';
import { parseIban } from '../../domain/iban.ts';
import type { Store } from '../../db/store.ts';
import { createPortalAdmin } from '../../db/repositories/portalAdmin.ts';
import type { Broker } from '../../db/repositories/brokers.ts';
import type { Station, StationDialect, StationStatus } from '../../db/repositories/stations.ts';
import type { Ente, EnteStatus } from '../../db/repositories/enti.ts';
import type { Service, ServiceStatus } from '../../db/repositories/services.ts';
import type { Client } from '../../db/repositories/clients.ts';
import type { PortalRole, PortalUser } from '../../db/repositories/portalUsers.ts';
import { addClient, addEnte, addService, setClientEndpoints, type AddClientInput } from '../admin.ts';
import type { AddEnteInput } from '../admin.ts';
import { generatePassword, hashPassword } from '../passwords.ts';
import { changePortalPassword, createPortalUser, setPortalUserStatus } from './auth.ts';

const CATEGORY = /^[0129]\/\S{3,138}$/;
const SERVICE_CODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const PAGOPA_SERVICE_ID = /^\d{5}$/;
const STATION_PASSWORD = /^\S{8,15}$/;

function required(value: string, field: string, max = 255): string {
  const trimmed = value.trim();
  if (!trimmed || trimmed.length > max)
    throw domainError('INVALID_INPUT', `${field} is required (at most ${max} characters)`, { field });
  return trimmed;
}

// ---------------------------------------------------------------------------------------------
// Brokers and stations
// ---------------------------------------------------------------------------------------------

export async function createBroker(
  store: Store,
  input: { fiscalCode: string; name: string },
  actor: string,
): Promise<Broker> {
  const fiscalCode = parseEnteFiscalCode(input.fiscalCode);
  const name = required(input.name, 'name');
  return store.transaction(async (tx) => {
    const broker = await tx.brokers.create({ fiscalCode, name });
    await tx.events.append({
      entityType: 'broker',
      entityId: broker.id,
      action: 'create',
      cause: `broker ${fiscalCode} created`,
      actor,
    });
    return broker;
  });
}

export interface NewStationInput {
  stationId: string;
  brokerFiscalCode: string;
  /** Sent in clear in nodo* calls (pagoPA gives it): stored as it is, never logged. */
  password: string;
  dialect: string;
}

export async function createStation(store: Store, input: NewStationInput, actor: string): Promise<Station> {
  const broker = await store.brokers.getByFiscalCode(input.brokerFiscalCode.trim());
  if (!broker) throw domainError('BROKER_UNKNOWN', 'no such broker', { field: 'broker' });
  const stationId = input.stationId.trim();
  // pagoPA names a station after its broker: <broker fiscal code>_<two digits>.
  if (!new RegExp(`^${broker.fiscalCode}_\\d{2}$`).test(stationId))
    throw domainError('INVALID_INPUT', 'the station id is <broker fiscal code>_NN', { field: 'stationId' });
  if (!STATION_PASSWORD.test(input.password))
    throw domainError('INVALID_INPUT', 'the station password is 8-15 characters', { field: 'password' });
  if (input.dialect !== 'current' && input.dialect !== 'legacy')
    throw domainError('INVALID_INPUT', 'the dialect is current or legacy', { field: 'dialect' });
  const dialect: StationDialect = input.dialect;
  return store.transaction(async (tx) => {
    const station = await tx.stations.create({
      stationId,
      brokerId: broker.id,
      password: input.password,
      dialect,
    });
    await tx.events.append({
      entityType: 'station',
      entityId: station.id,
      action: 'create',
      toStatus: station.status,
      cause: `station ${stationId} created (${dialect})`,
      actor,
    });
    return station;
  });
}

export async function setStationStatus(
  store: Store,
  station: Station,
  status: StationStatus,
  actor: string,
): Promise<void> {
  if (station.status === status) return;
  await store.transaction(async (tx) => {
    await createPortalAdmin(tx.db).setStationStatus(station.id, status);
    await tx.events.append({
      entityType: 'station',
      entityId: station.id,
      action: 'status',
      fromStatus: station.status,
      toStatus: status,
      cause: `station ${station.stationId} ${status === 'active' ? 'enabled' : 'disabled'}`,
      actor,
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Enti and services
// ---------------------------------------------------------------------------------------------

export async function createEnte(store: Store, input: AddEnteInput, actor: string): Promise<Ente> {
  return store.transaction(async (tx) => {
    const ente = await addEnte(tx, input);
    await tx.events.append({
      entityType: 'ente',
      entityId: ente.id,
      action: 'create',
      toStatus: ente.status,
      cause: `ente ${ente.fiscalCode} created`,
      actor,
    });
    return ente;
  });
}

export async function setEnteStatus(
  store: Store,
  ente: Ente,
  status: EnteStatus,
  actor: string,
): Promise<void> {
  if (ente.status === status) return;
  await store.transaction(async (tx) => {
    await tx.enti.setStatus(ente.id, status);
    await tx.events.append({
      entityType: 'ente',
      entityId: ente.id,
      action: 'status',
      fromStatus: ente.status,
      toStatus: status,
      cause: `ente ${ente.fiscalCode} ${status === 'active' ? 'enabled' : 'disabled'}`,
      actor,
    });
  });
}

export interface ServiceFields {
  description: string;
  category: string;
  /** Empty: the ente's default IBAN. */
  iban: string;
  /** pagoPA idServizio (5 digits), empty for none. */
  pagopaServiceId: string;
}

function checkServiceFields(fields: ServiceFields) {
  const description = required(fields.description, 'description', 140);
  const category = fields.category.trim();
  if (!CATEGORY.test(category) || category.length > 140)
    throw domainError('INVALID_TRANSFER', 'category must be a taxonomy code like 9/0101108TS/', {
      field: 'category',
    });
  const pagopaServiceId = fields.pagopaServiceId.trim() || null;
  if (pagopaServiceId !== null && !PAGOPA_SERVICE_ID.test(pagopaServiceId))
    throw domainError('INVALID_INPUT', 'the pagoPA service id is 5 digits', { field: 'pagopaServiceId' });
  const iban = fields.iban.trim() ? parseIban(fields.iban) : null;
  return { description, category, iban, pagopaServiceId };
}

export async function createService(
  store: Store,
  ente: Ente,
  input: ServiceFields & { code: string },
  actor: string,
): Promise<Service> {
  const code = input.code.trim();
  if (!SERVICE_CODE.test(code))
    throw domainError('INVALID_INPUT', 'the service code takes letters, digits, dot, dash, underscore', {
      field: 'code',
    });
  const fields = checkServiceFields(input);
  return store.transaction(async (tx) => {
    const service = await addService(tx, {
      ente: ente.fiscalCode,
      code,
      description: fields.description,
      category: fields.category,
      iban: fields.iban ?? undefined,
      spontaneous: false,
    });
    if (fields.pagopaServiceId)
      await createPortalAdmin(tx.db).setServicePagopaId(service.id, fields.pagopaServiceId);
    await tx.events.append({
      entityType: 'service',
      entityId: service.id,
      action: 'create',
      toStatus: service.status,
      cause: `service ${code} of ente ${ente.fiscalCode} created`,
      actor,
    });
    return (await tx.services.getById(service.id)) as Service;
  });
}

export async function updateService(
  store: Store,
  ente: Ente,
  service: Service,
  input: ServiceFields,
  actor: string,
): Promise<void> {
  const fields = checkServiceFields(input);
  const iban = fields.iban ?? ente.iban;
  if (!iban)
    throw domainError('INVALID_IBAN', 'the service needs an IBAN (the ente has no default)', {
      field: 'iban',
    });
  await store.transaction(async (tx) => {
    await createPortalAdmin(tx.db).updateService(service.id, { ...fields, iban });
    await tx.events.append({
      entityType: 'service',
      entityId: service.id,
      action: 'update',
      cause: `service ${service.code} of ente ${ente.fiscalCode} changed`,
      actor,
      payload: {
        description: fields.description,
        category: fields.category,
        iban,
        pagopaServiceId: fields.pagopaServiceId,
      },
    });
  });
}

export async function setServiceStatus(
  store: Store,
  service: Service,
  status: ServiceStatus,
  actor: string,
): Promise<void> {
  if (service.status === status) return;
  await store.transaction(async (tx) => {
    await createPortalAdmin(tx.db).setServiceStatus(service.id, status);
    await tx.events.append({
      entityType: 'service',
      entityId: service.id,
      action: 'status',
      fromStatus: service.status,
      toStatus: status,
      cause: `service ${service.code} ${status === 'active' ? 'enabled' : 'disabled'}`,
      actor,
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Gestionale clients
// ---------------------------------------------------------------------------------------------

/** A new client; the generated password is in the result and nowhere else. */
export async function createClient(store: Store, input: Omit<AddClientInput, 'password'>, actor: string) {
  if (input.enti.length === 0)
    throw domainError('INVALID_INPUT', 'a client is bound to at least one ente', { field: 'enti' });
  if (input.models.length === 0)
    throw domainError('INVALID_INPUT', 'a client uses at least one integration model', { field: 'models' });
  required(input.name, 'name');
  return store.transaction(async (tx) => {
    const created = await addClient(tx, input);
    const client = (await tx.clients.findByUsername(created.username)) as Client;
    await tx.events.append({
      entityType: 'client',
      entityId: client.id,
      action: 'create',
      toStatus: 'active',
      cause: `gestionale client ${client.username} created`,
      actor,
      payload: { enti: created.enti, services: created.services, models: created.models },
    });
    return { client, created };
  });
}

/** A new generated password for a client: the old one stops working at once. */
export async function resetClientPassword(store: Store, client: Client, actor: string): Promise<string> {
  if (client.status !== 'active')
    throw domainError('INVALID_STATE_TRANSITION', 'a revoked client gets no new password', {
      field: 'status',
    });
  const password = generatePassword();
  const hash = await hashPassword(password);
  await store.transaction(async (tx) => {
    await createPortalAdmin(tx.db).setClientPasswordHash(client.id, hash);
    await tx.events.append({
      entityType: 'client',
      entityId: client.id,
      action: 'password',
      cause: `password of gestionale client ${client.username} reset`,
      actor,
    });
  });
  return password;
}

export async function revokeClient(store: Store, client: Client, actor: string): Promise<boolean> {
  return store.clients.revoke(client.id, {
    cause: `gestionale client ${client.username} revoked`,
    actor,
  });
}

export async function changeClientEndpoints(
  store: Store,
  client: Client,
  input: { callbackUrl: string | null; returnUrlPrefixes: string[] },
  actor: string,
) {
  return store.transaction(async (tx) => {
    const changed = await setClientEndpoints(tx, { username: client.username, ...input });
    await tx.events.append({
      entityType: 'client',
      entityId: client.id,
      action: 'endpoints',
      cause: `endpoints of gestionale client ${client.username} changed`,
      actor,
      payload: { callbackUrl: changed.callbackUrl, returnUrlPrefixes: changed.returnUrlPrefixes },
    });
    return changed;
  });
}

// ---------------------------------------------------------------------------------------------
// Portal users
// ---------------------------------------------------------------------------------------------

function samePasswords(password: string, confirmation: string): void {
  if (password !== confirmation)
    throw domainError('INVALID_INPUT', 'the two passwords differ', { field: 'passwordConfirm' });
}

export interface NewPortalUserForm {
  username: string;
  fullName: string;
  role: string;
  enteFiscalCode: string;
  password: string;
  passwordConfirm: string;
}

export async function createUserFromForm(
  store: Store,
  input: NewPortalUserForm,
  actor: string,
): Promise<PortalUser> {
  samePasswords(input.password, input.passwordConfirm);
  return createPortalUser(
    store,
    {
      username: input.username,
      fullName: input.fullName,
      password: input.password,
      role: input.role as PortalRole,
      enteFiscalCode: input.role === 'operator' ? input.enteFiscalCode : undefined,
    },
    actor,
  );
}

export interface NewUserCommand {
  username: string;
  role: string;
  enteFiscalCode?: string | undefined;
  fullName?: string | undefined;
  /** The password chosen by the operator; generated when absent. */
  password?: string | undefined;
}

/** `ppay user add`: the user, and the password when it was generated (to be printed once). */
export async function addUserFromCommand(
  store: Store,
  input: NewUserCommand,
  actor: string,
): Promise<{ user: PortalUser; generatedPassword: string | null }> {
  const generatedPassword = input.password ? null : generatePassword();
  const user = await createPortalUser(
    store,
    {
      username: input.username,
      fullName: input.fullName?.trim() || input.username,
      password: input.password || (generatedPassword as string),
      role: input.role as PortalRole,
      enteFiscalCode: input.enteFiscalCode,
    },
    actor,
  );
  return { user, generatedPassword };
}

/** An admin sets a new password for a user; the user's open sessions end (unless it is the admin). */
export async function resetUserPassword(
  store: Store,
  admin: PortalUser,
  user: PortalUser,
  input: { password: string; passwordConfirm: string },
  actor: string,
): Promise<void> {
  samePasswords(input.password, input.passwordConfirm);
  await changePortalPassword(store, user, input.password, actor);
  if (user.id !== admin.id) await createPortalAdmin(store.db).endSessionsOf(user.id);
}

/** Enables or disables a user (a disabled one's sessions end at once); nobody disables itself. */
export async function changeUserStatus(
  store: Store,
  admin: Pick<PortalUser, 'id'>,
  user: PortalUser,
  status: 'active' | 'disabled',
  actor: string,
): Promise<void> {
  if (status === 'disabled' && user.id === admin.id)
    throw domainError('FORBIDDEN', 'an admin cannot disable itself', { field: 'self' });
  if (user.status === status) return;
  await setPortalUserStatus(store, user, status, actor);
}
