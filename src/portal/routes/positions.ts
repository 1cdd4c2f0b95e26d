// Portal routes: manual entry, edit, cancel, position detail and timeline (issue 8 items 3, 5).
// Every change is an upload item applied by applyItem, as the gestionale API applies it: the same
// validation, notice numbers, event log and callbacks; the portal only turns form fields into the
// item (src/app/portal/positionForm.ts) and the item's errors back into fields.

import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { domainError, isDomainError, type DomainError } from '../../domain/errors.ts';
import { canTransition, isEditable } from '../../domain/positionState.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Service } from '../../db/repositories/services.ts';
import type { StoredPosition } from '../../db/repositories/positions.ts';
import type { Payment } from '../../db/repositories/payments.ts';
import type { Receipt } from '../../db/repositories/receipts.ts';
import type { MetadataEntry } from '../../db/repositories/positionExtras.ts';
import { createPortalPositions } from '../../db/repositories/portalPositions.ts';
import {
  applyItem,
  NoticeSupply,
  type ItemContext,
  type NoticeResult,
  type UploadItemInput,
} from '../../app/gestionale/uploadItems.ts';
import {
  fieldErrorOf,
  fitsTheForm,
  installmentBlocksToShow,
  parsePositionForm,
  readPositionForm,
  valuesFromPosition,
  type FieldError,
  type FormDefaults,
  type ParsedPositionForm,
  type PositionFormValues,
} from '../../app/portal/positionForm.ts';
import { actorOf, currentUser, field, requireEnteAccess, type PortalContext } from '../context.ts';
import { chosenEnte, enteChoices, errorPage, handler, redirectWithFlash, sendPage } from '../http.ts';
import { PORTAL } from '../layout.ts';
import { italianMessage, statusOf } from '../messages.ts';
import {
  POSITION_STATUS_LABELS,
  positionDetailBody,
  positionFormBody,
  positionPath,
  POSITIONS_PORTAL,
  type PositionDetailView,
  type PositionFormView,
} from '../pages/positions.ts';

const NEW_POSITION = `${PORTAL}/posizioni/nuova`;

type Body = Record<string, unknown>;

/** A route whose :id must be a positions row id; anything else is left to later routes. */
function withRowId(route: RequestHandler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) =>
    /^\d{1,12}$/.test(String(req.params.id)) ? route(req, res, next) : next();
}

/** The position of a row id the user may see; another ente's looks as if it did not exist. */
async function loadPosition(ctx: PortalContext, res: Response, id: string): Promise<StoredPosition> {
  const position = await ctx.store.positions.findById(Number(id));
  if (!position) throw domainError('POSITION_UNKNOWN', 'no such position', { notFound: true });
  requireEnteAccess(currentUser(res), position.enteId, 'position');
  return position;
}

async function enteOf(ctx: PortalContext, enteId: number): Promise<Ente> {
  const ente = await ctx.store.enti.getById(enteId);
  if (!ente) throw domainError('ENTE_UNKNOWN', 'no such ente', { enteId });
  return ente;
}

async function serviceOf(ctx: PortalContext, serviceId: number): Promise<Service> {
  const service = await ctx.store.services.getById(serviceId);
  if (!service) throw domainError('SERVICE_UNKNOWN', 'no such service', { serviceId });
  return service;
}

/** The ente a new position is for: an operator's own; the one an admin names, else the first. */
async function enteForNew(ctx: PortalContext, res: Response, requested: string): Promise<Ente> {
  const user = currentUser(res);
  const chosen = await chosenEnte(ctx, res, requested);
  if (chosen) return chosen;
  if (user.role === 'admin' && !requested) {
    const first = (await enteChoices(ctx, user))[0];
    if (first) return first;
  }
  throw domainError('ENTE_UNKNOWN', 'no ente to act for', { notFound: true });
}

async function activeServices(ctx: PortalContext, ente: Ente): Promise<Service[]> {
  return (await ctx.store.services.listByEnte(ente.id)).filter((s) => s.status === 'active');
}

function defaultsOf(ente: Ente, service: Service | undefined): FormDefaults {
  return { iban: service?.iban ?? ente.iban, category: service?.category ?? '' };
}

function placeholders(defaults: FormDefaults): { iban: string; category: string } {
  return { iban: defaults.iban ?? '', category: defaults.category };
}

function formPage(res: Response, status: number, view: PositionFormView, defaults: FormDefaults): void {
  const edit = view.mode === 'edit';
  sendPage(res, status, {
    title: edit ? 'Modifica posizione' : 'Nuova posizione',
    active: edit ? `${PORTAL}/posizioni` : NEW_POSITION,
    lead: edit
      ? `${view.position?.positionId ?? ''}: ${view.ente.name}`
      : `Inserimento manuale di una posizione debitoria per ${view.ente.name}`,
    body: positionFormBody(res, view, placeholders(defaults)),
  });
}

function noticeText(notices: readonly NoticeResult[]): string {
  return notices.map((n) => n.noticeNumber || n.iuv).join(', ');
}

/** Applies one item in its own transaction, as the gestionale upload does. */
function apply(ctx: PortalContext, itemCtx: ItemContext, item: UploadItemInput): Promise<NoticeResult[]> {
  return ctx.store.transaction((tx) => applyItem(tx, itemCtx, item));
}

function itemContext(res: Response, ente: Ente, service: Service, cause: string): ItemContext {
  return {
    ente,
    service,
    clientId: null,
    actor: actorOf(res),
    cause,
    supply: new NoticeSupply({ ente, service, clientId: null }),
  };
}

/** A refusal of applyItem as the form's errors: on its field when the form has it. */
function formErrorsOf(err: DomainError, form: ParsedPositionForm): FieldError[] {
  return [fieldErrorOf(err, form) ?? { field: '', message: italianMessage(err) }];
}

function positionItem(
  action: 'INSERT' | 'UPDATE',
  form: ParsedPositionForm,
  metadata: MetadataEntry[],
): UploadItemInput {
  return {
    action,
    position: { draft: form.draft, iuvs: form.draft.options.map(() => null), metadata },
  };
}

function notEditablePage(res: Response, position: StoredPosition): void {
  const status = POSITION_STATUS_LABELS[position.status] ?? position.status;
  if (isEditable(position.status) && !fitsTheForm(position)) {
    return errorPage(
      res,
      409,
      'Modifica non possibile',
      `La posizione ${position.positionId} ha più rate di quante il modulo ne gestisca: modificala dal gestionale o con un caricamento.`,
    );
  }
  errorPage(
    res,
    409,
    'Modifica non possibile',
    `La posizione ${position.positionId} è nello stato "${status}": si possono modificare solo le posizioni da pagare o scadute, senza rate già pagate.`,
  );
}

function editable(position: StoredPosition): boolean {
  return (
    isEditable(position.status) &&
    position.options.every((o) => o.status === 'UNPAID') &&
    fitsTheForm(position)
  );
}

async function uniqueById<T extends { id: number }>(lists: Promise<T[]>[]): Promise<T[]> {
  const byId = new Map<number, T>();
  for (const list of await Promise.all(lists)) for (const row of list) byId.set(row.id, row);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

async function detailView(
  ctx: PortalContext,
  position: StoredPosition,
  extra: Pick<PositionDetailView, 'cancelError' | 'reason'> = {},
): Promise<PositionDetailView> {
  const { enteId } = position;
  const payments: Payment[] = await uniqueById(
    position.options.map((o) => ctx.store.payments.listByIuv(enteId, o.iuv)),
  );
  const receipts: Receipt[] = await uniqueById(
    position.options.map((o) => ctx.store.receipts.listByIuv(enteId, o.iuv)),
  );
  return {
    position,
    ente: await enteOf(ctx, enteId),
    service: await ctx.store.services.getById(position.serviceId),
    payments,
    receipts,
    timeline: await createPortalPositions(ctx.store.db).timeline(position),
    canEdit: editable(position),
    canCancel: canTransition(position.status, 'CANCELLED'),
    ...extra,
  };
}

function detailPage(res: Response, status: number, view: PositionDetailView): void {
  sendPage(res, status, {
    title: `Posizione ${view.position.positionId}`,
    active: `${PORTAL}/posizioni`,
    lead: `${view.ente.name}: ${view.position.description}`,
    body: positionDetailBody(res, view),
  });
}

export function registerPositions(router: Router, ctx: PortalContext): void {
  router.get(
    '/posizioni/nuova',
    handler(ctx, async (req, res) => {
      const user = currentUser(res);
      const ente = await enteForNew(ctx, res, field(req.query, 'ente'));
      const services = await activeServices(ctx, ente);
      if (services.length === 0) {
        return errorPage(
          res,
          409,
          'Nessun servizio attivo',
          `L'ente ${ente.name} non ha servizi attivi: chiedi all'amministratore del connettore di configurarne uno.`,
        );
      }
      const values: PositionFormValues = { plan: 'single' };
      const view: PositionFormView = {
        mode: 'new',
        action: POSITIONS_PORTAL,
        enti: user.role === 'admin' ? await enteChoices(ctx, user) : null,
        ente,
        services,
        serviceCode: services[0]?.code ?? '',
        values,
        errors: [],
        blocks: installmentBlocksToShow(values, field(req.query, 'rate')),
      };
      formPage(res, 200, view, defaultsOf(ente, services[0]));
    }),
  );

  router.post(
    '/posizioni',
    handler(ctx, async (req, res) => {
      const body = req.body as Body;
      const user = currentUser(res);
      const ente = await enteForNew(ctx, res, field(body, 'ente'));
      const services = await activeServices(ctx, ente);
      const serviceCode = field(body, 'service');
      const service = services.find((s) => s.code === serviceCode);
      const values = readPositionForm(body);
      const defaults = defaultsOf(ente, service ?? services[0]);
      const view: PositionFormView = {
        mode: 'new',
        action: POSITIONS_PORTAL,
        enti: user.role === 'admin' ? await enteChoices(ctx, user) : null,
        ente,
        services,
        serviceCode,
        values,
        errors: [],
        blocks: installmentBlocksToShow(values),
      };
      const parsed = parsePositionForm(values, { defaults });
      const serviceError: FieldError[] = service
        ? []
        : [{ field: 'service', message: "Scegli un servizio attivo dell'ente." }];
      if (!parsed.ok || !service) {
        const errors = [...serviceError, ...(parsed.ok ? [] : parsed.errors)];
        return formPage(res, 400, { ...view, errors }, defaults);
      }
      const itemCtx = itemContext(res, ente, service, 'portal: manual entry');
      let notices: NoticeResult[];
      try {
        notices = await apply(ctx, itemCtx, positionItem('INSERT', parsed.form, []));
      } catch (err) {
        if (!isDomainError(err)) throw err;
        return formPage(res, statusOf(err), { ...view, errors: formErrorsOf(err, parsed.form) }, defaults);
      }
      const stored = await ctx.store.positions.findByPositionId(ente.id, parsed.form.draft.positionId);
      if (!stored)
        throw new Error(`portal: position ${parsed.form.draft.positionId} not found after its insert`);
      await redirectWithFlash(ctx, res, positionPath(stored.id), {
        kind: 'success',
        text: `Posizione ${stored.positionId} creata. Codici avviso: ${noticeText(notices)}.`,
      });
    }),
  );

  router.get(
    '/posizioni/:id',
    withRowId(
      handler(ctx, async (req, res) => {
        const position = await loadPosition(ctx, res, String(req.params.id));
        detailPage(res, 200, await detailView(ctx, position));
      }),
    ),
  );

  router.get(
    '/posizioni/:id/modifica',
    withRowId(
      handler(ctx, async (req, res) => {
        const position = await loadPosition(ctx, res, String(req.params.id));
        if (!editable(position)) return notEditablePage(res, position);
        const ente = await enteOf(ctx, position.enteId);
        const service = await serviceOf(ctx, position.serviceId);
        const values = valuesFromPosition(position);
        const view: PositionFormView = {
          mode: 'edit',
          action: `${positionPath(position.id)}/modifica`,
          enti: null,
          ente,
          services: [service],
          serviceCode: service.code,
          position,
          values,
          errors: [],
          blocks: installmentBlocksToShow(values, field(req.query, 'rate')),
        };
        formPage(res, 200, view, defaultsOf(ente, service));
      }),
    ),
  );

  router.post(
    '/posizioni/:id/modifica',
    withRowId(
      handler(ctx, async (req, res) => {
        const body = req.body as Body;
        const position = await loadPosition(ctx, res, String(req.params.id));
        if (!editable(position)) return notEditablePage(res, position);
        const ente = await enteOf(ctx, position.enteId);
        const service = await serviceOf(ctx, position.serviceId);
        const defaults = defaultsOf(ente, service);
        const values = readPositionForm(body);
        const view: PositionFormView = {
          mode: 'edit',
          action: `${positionPath(position.id)}/modifica`,
          enti: null,
          ente,
          services: [service],
          serviceCode: service.code,
          position,
          values,
          errors: [],
          blocks: installmentBlocksToShow(values),
        };
        if (field(body, 'version') !== String(position.version)) {
          const message =
            'La posizione è stata modificata nel frattempo (da un altro operatore o dal gestionale): controlla i dati e salva di nuovo.';
          return formPage(res, 409, { ...view, errors: [{ field: '', message }] }, defaults);
        }
        const parsed = parsePositionForm(values, { defaults, positionId: position.positionId });
        if (!parsed.ok) return formPage(res, 400, { ...view, errors: parsed.errors }, defaults);
        const { metadata } = await ctx.store.positionExtras.get(position.id);
        const itemCtx = itemContext(res, ente, service, 'portal: edit');
        let notices: NoticeResult[];
        try {
          notices = await apply(ctx, itemCtx, positionItem('UPDATE', parsed.form, metadata));
        } catch (err) {
          if (!isDomainError(err)) throw err;
          return formPage(res, statusOf(err), { ...view, errors: formErrorsOf(err, parsed.form) }, defaults);
        }
        await redirectWithFlash(ctx, res, positionPath(position.id), {
          kind: 'success',
          text: `Posizione ${position.positionId} aggiornata. Codici avviso: ${noticeText(notices)}.`,
        });
      }),
    ),
  );

  router.post(
    '/posizioni/:id/annulla',
    withRowId(
      handler(ctx, async (req, res) => {
        const body = req.body as Body;
        const position = await loadPosition(ctx, res, String(req.params.id));
        const reason = field(body, 'reason').slice(0, 200);
        if (!reason) {
          const cancelError = "Indica il motivo dell'annullamento.";
          return detailPage(res, 400, await detailView(ctx, position, { cancelError, reason }));
        }
        const ente = await enteOf(ctx, position.enteId);
        const service = await serviceOf(ctx, position.serviceId);
        const itemCtx = itemContext(res, ente, service, 'portal: cancellation');
        try {
          await apply(ctx, itemCtx, {
            action: 'CANCEL',
            cancellation: { positionId: position.positionId, reason },
          });
        } catch (err) {
          if (!isDomainError(err)) throw err;
          const status = POSITION_STATUS_LABELS[position.status] ?? position.status;
          const cancelError =
            err.code === 'INVALID_STATE_TRANSITION'
              ? `La posizione è nello stato "${status}" e non può essere annullata.`
              : italianMessage(err);
          return detailPage(res, statusOf(err), await detailView(ctx, position, { cancelError, reason }));
        }
        await redirectWithFlash(ctx, res, positionPath(position.id), {
          kind: 'success',
          text: `Posizione ${position.positionId} annullata.`,
        });
      }),
    ),
  );
}
