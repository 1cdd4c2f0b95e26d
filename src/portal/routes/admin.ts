// Portal routes: enti, services, stations, gestionale clients, portal users (issue 8 item 2).
// Everything here is under /portal/admin, which the portal router reserves to admins before these
// routes run. A refused form comes back with what was typed and the Italian reason; a change
// redirects with a one-shot message; a generated gestionale password is shown once, in the answer
// to the POST that made it, and never again.

import type { Request, Response, Router } from 'express';
import { domainError, isDomainError, type DomainError } from '../../domain/errors.ts';
import { INTEGRATION_MODELS, type IntegrationModel } from '../../db/repositories/clients.ts';
import { createPortalAdmin } from '../../db/repositories/portalAdmin.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import {
  changeClientEndpoints,
  changeUserStatus,
  createBroker,
  createClient,
  createEnte,
  createService,
  createStation,
  createUserFromForm,
  resetClientPassword,
  resetUserPassword,
  revokeClient,
  setEnteStatus,
  setServiceStatus,
  setStationStatus,
  updateService,
} from '../../app/portal/adminActions.ts';
import { actorOf, currentUser, field, type PortalContext } from '../context.ts';
import { errorPage, handler, redirectWithFlash, sendPage } from '../http.ts';
import { csrfField } from '../layout.ts';
import { statusOf } from '../messages.ts';
import {
  ADMIN,
  adminErrorText,
  clientFormPage,
  clientPage,
  clientPasswordPage,
  clientsPage,
  enteFormPage,
  entePage,
  entiPage,
  overviewPage,
  serviceEditPage,
  stationsPage,
  userPage,
  usersPage,
  type FormValues,
} from '../pages/admin.ts';

type Body = Record<string, unknown>;

type Outcome<T> = { ok: true; value: T } | { ok: false; error: DomainError };

/** Runs a form's action; a DomainError comes back as the refusal to show, anything else is thrown. */
async function attempt<T>(fn: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (isDomainError(err)) return { ok: false, error: err };
    throw err;
  }
}

/** The refusal of a form's action, or null when it went through. */
async function refused(fn: () => Promise<unknown>): Promise<DomainError | null> {
  const outcome = await attempt(fn);
  return outcome.ok ? null : outcome.error;
}

/** The status of a page showing a refused form: the page exists, so never 404. */
function formStatus(err: DomainError): number {
  const status = statusOf(err);
  return status === 404 ? 400 : status;
}

/** A repeated form field (checkboxes) as a list of trimmed, non-empty strings. */
function list(body: Body, name: string): string[] {
  const raw = body[name];
  const items = Array.isArray(raw) ? raw : [raw];
  return items.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim());
}

/** The body's plain fields, to put back into a refused form (never passwords). */
function formValues(body: Body, names: string[], lists: string[] = []): FormValues {
  const values: FormValues = {};
  for (const name of names) values[name] = typeof body[name] === 'string' ? body[name] : '';
  for (const name of lists) values[name] = list(body, name);
  return values;
}

function rawPassword(body: Body, name: string): string {
  const v = body[name];
  return typeof v === 'string' ? v : '';
}

function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

function idParam(req: Request, name: string): number | null {
  const raw: unknown = req.params[name];
  return typeof raw === 'string' && /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : null;
}

function statusField(body: Body): 'active' | 'disabled' {
  const status = field(body, 'status');
  if (status !== 'active' && status !== 'disabled')
    throw domainError('INVALID_INPUT', 'status is active or disabled', { field: 'status' });
  return status;
}

const ENTE_FIELDS = [
  'fiscalCode',
  'name',
  'station',
  'auxDigit',
  'segregationCode',
  'applicationCode',
  'iban',
];
const SERVICE_FIELDS = ['code', 'description', 'category', 'iban', 'pagopaServiceId'];
const CLIENT_FIELDS = ['username', 'name', 'services', 'callbackUrl', 'returnUrlPrefixes'];
const USER_FIELDS = ['username', 'fullName', 'role', 'ente'];

export function registerAdmin(router: Router, ctx: PortalContext): void {
  const { store } = ctx;
  const admin = () => createPortalAdmin(store.db);
  const page = (res: Response, status: number, frame: Parameters<typeof sendPage>[2]) =>
    sendPage(res, status, frame);

  const loadEnte = async (req: Request): Promise<Ente> => {
    const id = idParam(req, 'id');
    const ente = id === null ? null : await store.enti.getById(id);
    if (!ente) throw domainError('ENTE_UNKNOWN', 'no such ente', { notFound: true });
    return ente;
  };
  const loadService = async (req: Request, ente: Ente) => {
    const id = idParam(req, 'serviceId');
    const service = id === null ? null : await store.services.getById(id);
    if (!service || service.enteId !== ente.id) throw domainError('SERVICE_UNKNOWN', 'no such service');
    return service;
  };
  const loadClient = async (req: Request) => {
    const id = idParam(req, 'id');
    const client = id === null ? null : await store.clients.getById(id);
    if (!client) throw domainError('CLIENT_UNKNOWN', 'no such client');
    return client;
  };
  const loadUser = async (req: Request) => {
    const id = idParam(req, 'id');
    const user = id === null ? null : await store.portalUsers.get(id);
    if (!user) throw domainError('POSITION_UNKNOWN', 'no such portal user', { notFound: true });
    return user;
  };

  // --- overview ---------------------------------------------------------------------------

  router.get(
    '/admin',
    handler(ctx, async (_req, res) => {
      const [enti, stations, clients, users] = await Promise.all([
        store.enti.list(),
        store.stations.list(),
        admin().listClients(),
        store.portalUsers.list(),
      ]);
      page(
        res,
        200,
        overviewPage({
          enti: enti.length,
          stations: stations.length,
          clients: clients.length,
          users: users.length,
        }),
      );
    }),
  );

  // --- stations and brokers ---------------------------------------------------------------

  const showStations = async (
    res: Response,
    status: number,
    extra: { stationForm?: FormValues; brokerForm?: FormValues; stationError?: string; brokerError?: string },
  ) => {
    const [stations, brokers, entiPerStation] = await Promise.all([
      store.stations.list(),
      store.brokers.list(),
      admin().entiPerStation(),
    ]);
    page(
      res,
      status,
      stationsPage(csrfField(res), {
        stations,
        brokers,
        entiPerStation,
        stationForm: extra.stationForm ?? {},
        brokerForm: extra.brokerForm ?? {},
        ...(extra.stationError ? { stationError: extra.stationError } : {}),
        ...(extra.brokerError ? { brokerError: extra.brokerError } : {}),
      }),
    );
  };

  router.get(
    '/admin/stazioni',
    handler(ctx, async (_req, res) => showStations(res, 200, {})),
  );

  router.post(
    '/admin/stazioni',
    handler(ctx, async (req, res) => {
      const body = req.body as Body;
      const err = await refused(async () => {
        await createStation(
          store,
          {
            stationId: field(body, 'stationId'),
            brokerFiscalCode: field(body, 'broker'),
            password: rawPassword(body, 'password'),
            dialect: field(body, 'dialect'),
          },
          actorOf(res),
        );
      });
      if (err)
        return showStations(res, formStatus(err), {
          stationForm: formValues(body, ['stationId', 'broker', 'dialect']),
          stationError: adminErrorText(err, 'station'),
        });
      await redirectWithFlash(ctx, res, `${ADMIN}/stazioni`, {
        kind: 'success',
        text: `Stazione ${field(body, 'stationId')} creata.`,
      });
    }),
  );

  router.post(
    '/admin/stazioni/:id/stato',
    handler(ctx, async (req, res) => {
      const id = idParam(req, 'id');
      const station = id === null ? null : await store.stations.getById(id);
      if (!station) throw domainError('STATION_UNKNOWN', 'no such station');
      const status = statusField(req.body as Body);
      await setStationStatus(store, station, status, actorOf(res));
      await redirectWithFlash(ctx, res, `${ADMIN}/stazioni`, {
        kind: 'success',
        text: `Stazione ${station.stationId} ${status === 'active' ? 'riattivata' : 'disattivata'}.`,
      });
    }),
  );

  router.post(
    '/admin/intermediari',
    handler(ctx, async (req, res) => {
      const body = req.body as Body;
      const err = await refused(async () => {
        await createBroker(
          store,
          { fiscalCode: field(body, 'fiscalCode'), name: field(body, 'name') },
          actorOf(res),
        );
      });
      if (err)
        return showStations(res, formStatus(err), {
          brokerForm: formValues(body, ['fiscalCode', 'name']),
          brokerError: adminErrorText(err, 'station'),
        });
      await redirectWithFlash(ctx, res, `${ADMIN}/stazioni`, {
        kind: 'success',
        text: 'Intermediario creato.',
      });
    }),
  );

  // --- enti ---------------------------------------------------------------------------------

  router.get(
    '/admin/enti',
    handler(ctx, async (_req, res) => {
      const [enti, stations] = await Promise.all([store.enti.list(), store.stations.list()]);
      page(res, 200, entiPage(enti, stations));
    }),
  );

  router.get(
    '/admin/enti/nuovo',
    handler(ctx, async (_req, res) => {
      page(res, 200, enteFormPage(csrfField(res), await store.stations.list(), {}));
    }),
  );

  router.post(
    '/admin/enti',
    handler(ctx, async (req, res) => {
      const body = req.body as Body;
      const outcome = await attempt(() =>
        createEnte(
          store,
          {
            fiscalCode: field(body, 'fiscalCode'),
            name: field(body, 'name'),
            station: field(body, 'station'),
            auxDigit: Number(field(body, 'auxDigit') || '3'),
            segregationCode: field(body, 'segregationCode') || undefined,
            applicationCode: field(body, 'applicationCode') || undefined,
            iban: field(body, 'iban') || undefined,
          },
          actorOf(res),
        ),
      );
      if (!outcome.ok) {
        const stations = await store.stations.list();
        const form = formValues(body, ENTE_FIELDS);
        const text = adminErrorText(outcome.error);
        return page(res, formStatus(outcome.error), enteFormPage(csrfField(res), stations, form, text));
      }
      const ente = outcome.value;
      await redirectWithFlash(ctx, res, `${ADMIN}/enti/${ente.id}`, {
        kind: 'success',
        text: `Ente ${ente.name} creato: aggiungi i suoi servizi.`,
      });
    }),
  );

  const showEnte = async (
    res: Response,
    status: number,
    ente: Ente,
    serviceForm: FormValues = {},
    serviceError?: string,
  ) => {
    const [station, services, operators, clients] = await Promise.all([
      store.stations.getById(ente.stationId),
      store.services.listByEnte(ente.id),
      store.portalUsers.list({ enteId: ente.id }),
      admin().clientsOfEnte(ente.id),
    ]);
    page(
      res,
      status,
      entePage(csrfField(res), {
        ente,
        station,
        services,
        operators,
        clients,
        serviceForm,
        ...(serviceError ? { serviceError } : {}),
      }),
    );
  };

  router.get(
    '/admin/enti/:id',
    handler(ctx, async (req, res) => showEnte(res, 200, await loadEnte(req))),
  );

  router.post(
    '/admin/enti/:id/stato',
    handler(ctx, async (req, res) => {
      const ente = await loadEnte(req);
      const status = statusField(req.body as Body);
      await setEnteStatus(store, ente, status, actorOf(res));
      await redirectWithFlash(ctx, res, `${ADMIN}/enti/${ente.id}`, {
        kind: 'success',
        text: `Ente ${status === 'active' ? 'riattivato' : 'disattivato'}.`,
      });
    }),
  );

  router.post(
    '/admin/enti/:id/servizi',
    handler(ctx, async (req, res) => {
      const ente = await loadEnte(req);
      const body = req.body as Body;
      const err = await refused(async () => {
        await createService(
          store,
          ente,
          {
            code: field(body, 'code'),
            description: field(body, 'description'),
            category: field(body, 'category'),
            iban: field(body, 'iban'),
            pagopaServiceId: field(body, 'pagopaServiceId'),
          },
          actorOf(res),
        );
      });
      if (err)
        return showEnte(res, formStatus(err), ente, formValues(body, SERVICE_FIELDS), adminErrorText(err));
      await redirectWithFlash(ctx, res, `${ADMIN}/enti/${ente.id}`, {
        kind: 'success',
        text: `Servizio ${field(body, 'code')} creato.`,
      });
    }),
  );

  router.get(
    '/admin/enti/:id/servizi/:serviceId/modifica',
    handler(ctx, async (req, res) => {
      const ente = await loadEnte(req);
      const service = await loadService(req, ente);
      page(
        res,
        200,
        serviceEditPage(csrfField(res), ente, service, {
          description: service.description,
          category: service.category,
          iban: service.iban ?? '',
          pagopaServiceId: service.pagopaServiceId ?? '',
        }),
      );
    }),
  );

  router.post(
    '/admin/enti/:id/servizi/:serviceId',
    handler(ctx, async (req, res) => {
      const ente = await loadEnte(req);
      const service = await loadService(req, ente);
      const body = req.body as Body;
      const err = await refused(() =>
        updateService(
          store,
          ente,
          service,
          {
            description: field(body, 'description'),
            category: field(body, 'category'),
            iban: field(body, 'iban'),
            pagopaServiceId: field(body, 'pagopaServiceId'),
          },
          actorOf(res),
        ),
      );
      if (err)
        return page(
          res,
          formStatus(err),
          serviceEditPage(
            csrfField(res),
            ente,
            service,
            formValues(body, SERVICE_FIELDS),
            adminErrorText(err),
          ),
        );
      await redirectWithFlash(ctx, res, `${ADMIN}/enti/${ente.id}`, {
        kind: 'success',
        text: `Servizio ${service.code} aggiornato.`,
      });
    }),
  );

  router.post(
    '/admin/enti/:id/servizi/:serviceId/stato',
    handler(ctx, async (req, res) => {
      const ente = await loadEnte(req);
      const service = await loadService(req, ente);
      const status = statusField(req.body as Body);
      await setServiceStatus(store, service, status, actorOf(res));
      await redirectWithFlash(ctx, res, `${ADMIN}/enti/${ente.id}`, {
        kind: 'success',
        text: `Servizio ${service.code} ${status === 'active' ? 'riattivato' : 'disattivato'}.`,
      });
    }),
  );

  // --- gestionale clients -----------------------------------------------------------------------

  router.get(
    '/admin/gestionali',
    handler(ctx, async (_req, res) => page(res, 200, clientsPage(await admin().listClients()))),
  );

  router.get(
    '/admin/gestionali/nuovo',
    handler(ctx, async (_req, res) => {
      page(res, 200, clientFormPage(csrfField(res), await store.enti.list(), {}));
    }),
  );

  router.post(
    '/admin/gestionali',
    handler(ctx, async (req, res) => {
      const body = req.body as Body;
      const models = list(body, 'models');
      const outcome = await attempt(async () => {
        if (models.some((m) => !(INTEGRATION_MODELS as readonly string[]).includes(m)))
          throw domainError('INVALID_INPUT', 'unknown integration model', { field: 'models' });
        return createClient(
          store,
          {
            username: field(body, 'username'),
            name: field(body, 'name'),
            enti: list(body, 'enti'),
            services: field(body, 'services')
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean),
            models: models as IntegrationModel[],
            callbackUrl: field(body, 'callbackUrl') || null,
            returnUrlPrefixes: lines(field(body, 'returnUrlPrefixes')),
          },
          actorOf(res),
        );
      });
      if (!outcome.ok) {
        const form = formValues(body, CLIENT_FIELDS, ['enti', 'models']);
        const text = adminErrorText(outcome.error);
        return page(
          res,
          formStatus(outcome.error),
          clientFormPage(csrfField(res), await store.enti.list(), form, text, true),
        );
      }
      const { client, created } = outcome.value;
      page(res, 200, clientPasswordPage(client, created.password, true));
    }),
  );

  const showClient = async (
    req: Request,
    res: Response,
    status: number,
    endpointsForm?: FormValues,
    endpointsError?: string,
  ) => {
    const client = await loadClient(req);
    const [bindings, enti, services] = await Promise.all([
      store.clients.bindings(client.id),
      store.enti.list(),
      admin().servicesOfClient(client.id),
    ]);
    page(
      res,
      status,
      clientPage(csrfField(res), {
        client,
        bindings,
        enti,
        services,
        endpointsForm: endpointsForm ?? {
          callbackUrl: client.callbackUrl ?? '',
          returnUrlPrefixes: client.returnUrlPrefixes.join('\n'),
        },
        ...(endpointsError ? { endpointsError } : {}),
      }),
    );
  };

  router.get(
    '/admin/gestionali/:id',
    handler(ctx, async (req, res) => showClient(req, res, 200)),
  );

  router.post(
    '/admin/gestionali/:id/password',
    handler(ctx, async (req, res) => {
      const client = await loadClient(req);
      const password = await resetClientPassword(store, client, actorOf(res));
      page(res, 200, clientPasswordPage(client, password, false));
    }),
  );

  router.post(
    '/admin/gestionali/:id/revoca',
    handler(ctx, async (req, res) => {
      const client = await loadClient(req);
      await revokeClient(store, client, actorOf(res));
      await redirectWithFlash(ctx, res, `${ADMIN}/gestionali/${client.id}`, {
        kind: 'success',
        text: `Credenziali di ${client.username} revocate.`,
      });
    }),
  );

  router.post(
    '/admin/gestionali/:id/indirizzi',
    handler(ctx, async (req, res) => {
      const client = await loadClient(req);
      const body = req.body as Body;
      const err = await refused(async () => {
        await changeClientEndpoints(
          store,
          client,
          {
            callbackUrl: field(body, 'callbackUrl') || null,
            returnUrlPrefixes: lines(field(body, 'returnUrlPrefixes')),
          },
          actorOf(res),
        );
      });
      if (err)
        return showClient(
          req,
          res,
          formStatus(err),
          formValues(body, ['callbackUrl', 'returnUrlPrefixes']),
          adminErrorText(err),
        );
      await redirectWithFlash(ctx, res, `${ADMIN}/gestionali/${client.id}`, {
        kind: 'success',
        text: 'Indirizzi aggiornati.',
      });
    }),
  );

  // --- portal users ---------------------------------------------------------------------------

  const showUsers = async (res: Response, status: number, form: FormValues, error?: string) => {
    const [users, enti] = await Promise.all([store.portalUsers.list(), store.enti.list()]);
    page(
      res,
      status,
      usersPage(csrfField(res), {
        users,
        enti,
        selfId: currentUser(res).id,
        form,
        ...(error ? { error } : {}),
      }),
    );
  };

  router.get(
    '/admin/utenti',
    handler(ctx, async (req, res) => {
      const ente = field(req.query, 'ente');
      return showUsers(res, 200, ente ? { role: 'operator', ente } : {});
    }),
  );

  router.post(
    '/admin/utenti',
    handler(ctx, async (req, res) => {
      const body = req.body as Body;
      const err = await refused(async () => {
        await createUserFromForm(
          store,
          {
            username: field(body, 'username'),
            fullName: field(body, 'fullName'),
            role: field(body, 'role'),
            enteFiscalCode: field(body, 'ente'),
            password: rawPassword(body, 'password'),
            passwordConfirm: rawPassword(body, 'passwordConfirm'),
          },
          actorOf(res),
        );
      });
      if (err) return showUsers(res, formStatus(err), formValues(body, USER_FIELDS), adminErrorText(err));
      await redirectWithFlash(ctx, res, `${ADMIN}/utenti`, {
        kind: 'success',
        text: `Utente ${field(body, 'username').toLowerCase()} creato.`,
      });
    }),
  );

  router.get(
    '/admin/utenti/:id',
    handler(ctx, async (req, res) => {
      const user = await loadUser(req);
      const ente = user.enteId === null ? null : await store.enti.getById(user.enteId);
      page(res, 200, userPage(csrfField(res), user, ente, user.id === currentUser(res).id));
    }),
  );

  router.post(
    '/admin/utenti/:id/password',
    handler(ctx, async (req, res) => {
      const user = await loadUser(req);
      const body = req.body as Body;
      const self = currentUser(res);
      const err = await refused(() =>
        resetUserPassword(
          store,
          self,
          user,
          { password: rawPassword(body, 'password'), passwordConfirm: rawPassword(body, 'passwordConfirm') },
          actorOf(res),
        ),
      );
      if (err) {
        const ente = user.enteId === null ? null : await store.enti.getById(user.enteId);
        return page(
          res,
          formStatus(err),
          userPage(csrfField(res), user, ente, user.id === self.id, adminErrorText(err)),
        );
      }
      await redirectWithFlash(ctx, res, `${ADMIN}/utenti/${user.id}`, {
        kind: 'success',
        text: `Password di ${user.username} cambiata.`,
      });
    }),
  );

  router.post(
    '/admin/utenti/:id/stato',
    handler(ctx, async (req, res) => {
      const user = await loadUser(req);
      const status = statusField(req.body as Body);
      const err = await refused(() => changeUserStatus(store, currentUser(res), user, status, actorOf(res)));
      if (err) return errorPage(res, formStatus(err), 'Operazione non consentita', adminErrorText(err));
      await redirectWithFlash(ctx, res, `${ADMIN}/utenti`, {
        kind: 'success',
        text: `Utente ${user.username} ${status === 'active' ? 'riattivato' : 'disattivato'}.`,
      });
    }),
  );
}
