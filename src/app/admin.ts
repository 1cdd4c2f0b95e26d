// Operator use cases behind the CLI's admin commands: register enti, services and gestionale
// clients, and show a position with its history. Inputs are validated with the domain parsers.

import { domainError } from '../domain/errors.ts';
import { parseEnteFiscalCode } from '../domain/fiscalCode.ts';
import { parseIban } from '../domain/iban.ts';
import { parseApplicationCode, parseAuxDigit, parseSegregationCode } from '../domain/noticeNumber.ts';
import type { Store } from '../db/store.ts';
import type { IntegrationModel } from '../db/repositories/clients.ts';
import type { Service } from '../db/repositories/services.ts';
import type { StoredEvent } from '../db/repositories/events.ts';
import type { StoredOption, StoredPosition } from '../db/repositories/positions.ts';
import { generatePassword, hashPassword } from './passwords.ts';
import { requireEnte } from './positions.ts';

const CATEGORY = /^[0129]\/\S{3,138}$/;
const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$/;

export interface AddEnteInput {
  fiscalCode: string;
  name: string;
  station: string;
  auxDigit: number;
  segregationCode?: string | undefined;
  applicationCode?: string | undefined;
  iban?: string | undefined;
}

export async function addEnte(store: Store, input: AddEnteInput) {
  const fiscalCode = parseEnteFiscalCode(input.fiscalCode);
  const auxDigit = parseAuxDigit(input.auxDigit);
  if (auxDigit === 3 && !input.segregationCode) {
    throw domainError('INVALID_SEGREGATION_CODE', 'aux digit 3 needs a segregation code', {
      field: 'segregationCode',
    });
  }
  if (auxDigit === 0 && !input.applicationCode) {
    throw domainError('INVALID_APPLICATION_CODE', 'aux digit 0 needs an application code', {
      field: 'applicationCode',
    });
  }
  const station = await store.stations.getByStationId(input.station);
  if (!station)
    throw domainError('STATION_UNKNOWN', `no station ${input.station}`, { stationId: input.station });
  const name = input.name.trim();
  // 140: pagoPA's companyName (stText140); longer names broke PostgreSQL's varchar(255) with a 500.
  if (!name || name.length > 140)
    throw domainError('INVALID_INPUT', 'the ente needs a name of at most 140 characters', { field: 'name' });
  return store.enti.create({
    fiscalCode,
    name,
    stationId: station.id,
    auxDigit,
    segregationCode: input.segregationCode ? parseSegregationCode(input.segregationCode) : null,
    applicationCode: input.applicationCode ? parseApplicationCode(input.applicationCode) : null,
    iban: input.iban ? parseIban(input.iban) : null,
  });
}

export interface AddServiceInput {
  ente: string;
  code: string;
  description: string;
  category: string;
  iban?: string | undefined;
  spontaneous: boolean;
}

export async function addService(store: Store, input: AddServiceInput) {
  const ente = await requireEnte(store, input.ente);
  if (!CATEGORY.test(input.category)) {
    throw domainError('INVALID_TRANSFER', 'category must be a taxonomy code like 9/0101108TS/', {
      field: 'category',
    });
  }
  const iban = input.iban ?? ente.iban;
  if (!iban)
    throw domainError('INVALID_IBAN', 'the service needs an IBAN (the ente has no default)', {
      field: 'iban',
    });
  return store.services.create({
    enteId: ente.id,
    code: input.code.trim(),
    description: input.description.trim(),
    category: input.category,
    iban: parseIban(iban),
    spontaneous: input.spontaneous,
  });
}

export interface AddClientInput {
  username: string;
  name: string;
  enti: string[];
  /** Service codes, looked up in the client's enti; empty means every service of those enti. */
  services: string[];
  models: IntegrationModel[];
  /** Fixed password (demo data); generated when absent. */
  password?: string;
  callbackUrl?: string | null;
  returnUrlPrefixes?: string[];
}

/** An absolute http(s) URL, or INVALID_INPUT naming the field. */
export function parseHttpUrl(value: string, field: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw domainError('INVALID_INPUT', `${field} must be an absolute http(s) URL`, { field });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw domainError('INVALID_INPUT', `${field} must be an absolute http(s) URL`, { field });
  }
  return url.href;
}

export interface CreatedClient {
  username: string;
  password: string;
  callbackUrl: string | null;
  returnUrlPrefixes: string[];
  enti: string[];
  services: string[];
  models: IntegrationModel[];
}

export async function addClient(store: Store, input: AddClientInput): Promise<CreatedClient> {
  if (!USERNAME.test(input.username)) {
    throw domainError('INVALID_INPUT', 'username must be 3-64 letters, digits or . _ @ -', {
      field: 'username',
    });
  }
  const enti = await Promise.all(input.enti.map((cf) => requireEnte(store, parseEnteFiscalCode(cf))));
  const services: Service[] = [];
  for (const ente of enti) {
    const offered = await store.services.listByEnte(ente.id);
    services.push(
      ...(input.services.length ? offered.filter((s) => input.services.includes(s.code)) : offered),
    );
  }
  const unknown = input.services.filter((code) => !services.some((s) => s.code === code));
  if (unknown.length > 0) {
    throw domainError('SERVICE_UNKNOWN', `no such service in the client's enti: ${unknown.join(', ')}`, {
      unknown,
    });
  }
  const password = input.password ?? generatePassword();
  const callbackUrl = input.callbackUrl ? parseHttpUrl(input.callbackUrl, 'callbackUrl') : null;
  const returnUrlPrefixes = (input.returnUrlPrefixes ?? []).map((u) => parseHttpUrl(u, 'returnUrlPrefixes'));
  await store.clients.create({
    callbackUrl,
    returnUrlPrefixes,
    username: input.username,
    name: input.name.trim(),
    passwordHash: await hashPassword(password),
    enteIds: enti.map((e) => e.id),
    serviceIds: services.map((s) => s.id),
    models: input.models,
  });
  return {
    username: input.username,
    password,
    callbackUrl,
    returnUrlPrefixes,
    enti: enti.map((e) => e.fiscalCode),
    services: [...new Set(services.map((s) => s.code))],
    models: input.models,
  };
}

/** An option as `position show` prints it: once reported, the flow (and its TRN) that reports it. */
export interface OptionView extends StoredOption {
  /** identificativoFlusso of the latest flow whose line matched this option; null until reported. */
  flowId: string | null;
  /** The flow's TRN (identificativoUnivocoRegolamento); null until reported. */
  trn: string | null;
}

export interface PositionView extends Omit<StoredPosition, 'options'> {
  options: OptionView[];
  enteFiscalCode: string;
  serviceCode: string;
  events: StoredEvent[];
}

export async function showPosition(
  store: Store,
  enteFiscalCode: string,
  noticeNumber: string,
): Promise<PositionView> {
  const ente = await requireEnte(store, enteFiscalCode);
  const position = await store.positions.findByNoticeNumber(ente.id, noticeNumber);
  if (!position) {
    throw domainError('POSITION_UNKNOWN', `no position with notice number ${noticeNumber}`, { noticeNumber });
  }
  const service = await store.services.getById(position.serviceId);
  const history = await Promise.all([
    store.events.listFor('position', position.id),
    ...position.options.map((o) => store.events.listFor('payment_option', o.id)),
  ]);
  const events = history.flat().sort((a, b) => a.occurredAt.localeCompare(b.occurredAt) || a.id - b.id);
  const links = await store.reconciliationFlows.linksOfOptions(position.options.map((o) => o.id));
  const options = position.options.map((o) => {
    const link = links.find((l) => l.optionId === o.id);
    return { ...o, flowId: link?.flowId ?? null, trn: link?.trn ?? null };
  });
  return { ...position, options, enteFiscalCode: ente.fiscalCode, serviceCode: service?.code ?? '', events };
}

export interface ClientEndpointsInput {
  username: string;
  /** A new callback URL; null removes it; undefined keeps the current one. */
  callbackUrl?: string | null;
  /** New return-URL prefixes (replacing the current list); undefined keeps the current ones. */
  returnUrlPrefixes?: string[];
}

/** Changes where a client's callbacks go and which return URLs it may use. */
export async function setClientEndpoints(store: Store, input: ClientEndpointsInput) {
  const client = await store.clients.findByUsername(input.username);
  if (!client) throw domainError('CLIENT_UNKNOWN', `no client ${input.username}`, { field: 'username' });
  const callbackUrl =
    input.callbackUrl === undefined
      ? client.callbackUrl
      : input.callbackUrl === null
        ? null
        : parseHttpUrl(input.callbackUrl, 'callbackUrl');
  const returnUrlPrefixes =
    input.returnUrlPrefixes === undefined
      ? client.returnUrlPrefixes
      : input.returnUrlPrefixes.map((u) => parseHttpUrl(u, 'returnUrlPrefixes'));
  await store.clients.setEndpoints(client.id, { callbackUrl, returnUrlPrefixes });
  return { username: client.username, callbackUrl, returnUrlPrefixes };
}
