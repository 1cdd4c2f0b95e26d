// Portal routes: search of positions and payments, reconciliation, outbox (issue 8 item 5).
// Every list is scoped to the enti the user may see (an operator: its own, whatever the query
// string asks; an admin: all, or the one chosen), paged 50 at a time, newest first, with its
// filters in the query string (GET forms). The two POST actions, "resolve an anomaly" and
// "resend a notification", refuse another ente's record exactly like a missing one.

import type { Request, Response, Router } from 'express';
import { isDomainError } from '../../domain/errors.ts';
import { POSITION_STATUSES } from '../../domain/positionState.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { OutboxStatus } from '../../db/repositories/outbox.ts';
import {
  createPortalSearch,
  type EnteScope,
  type ReceiptOutcomeFilter,
  type ReceiptReconciliation,
} from '../../db/repositories/portalSearch.ts';
import type { FlowStatus } from '../../reconciliation/matching.ts';
import { OUTBOX_STATUSES } from '../../app/callbacks/deadLetters.ts';
import {
  flowView,
  listAnomalies,
  listFlowSummaries,
  unmatchedCredits,
} from '../../app/reconciliation/views.ts';
import { italianDate } from '../../domain/payability.ts';
import {
  addDays,
  compactCode,
  PAGE_SIZE,
  parseDayInput,
  requireVisibleFlow,
  resendNotification,
  resolveVisibleAnomaly,
  romeMidnightIso,
} from '../../app/portal/monitoring.ts';
import { currentUser, actorOf, field, visibleEnteIds, type PortalContext } from '../context.ts';
import { chosenEnte, enteChoices, handler, redirectWithFlash, sendPage } from '../http.ts';
import { PORTAL } from '../layout.ts';
import { italianMessage } from '../messages.ts';
import {
  flowDetailBody,
  outboxBody,
  paymentsBody,
  positionsBody,
  reconciliationBody,
  type Filters,
} from '../pages/monitoring.ts';

const FLOW_STATUSES: readonly FlowStatus[] = ['PENDING', 'RECONCILED', 'ANOMALY'];
const OUTCOMES: readonly ReceiptOutcomeFilter[] = ['OK', 'KO', 'FLAGGED'];
const RECONCILIATIONS: readonly ReceiptReconciliation[] = ['NOT_REPORTED', 'REPORTED', 'RECONCILED'];
/** The reconciliation page shows, by default, flows settled in the last 90 days. */
const DEFAULT_FLOW_DAYS = 90;

/** The filters of a list as given (trimmed), with only the names the page knows. */
function filtersOf(req: Request, names: readonly string[]): Filters {
  return Object.fromEntries(names.map((name) => [name, field(req.query, name)]));
}

function pageOf(req: Request): number {
  const n = Number(field(req.query, 'pagina'));
  return Number.isSafeInteger(n) && n > 1 && n < 1_000_000 ? n : 1;
}

/** A list's scope: the ente chosen (always the operator's own), or every ente the user may see. */
async function scopeOf(
  ctx: PortalContext,
  res: Response,
  filters: Filters,
): Promise<{ scope: EnteScope; enti: Ente[] | null }> {
  const user = currentUser(res);
  const ente = await chosenEnte(ctx, res, filters.ente ?? '');
  const enti = user.role === 'admin' ? await enteChoices(ctx, user) : null;
  // An operator's filter is not theirs to choose: drop it so links do not carry it.
  if (user.role !== 'admin') filters.ente = '';
  return { scope: ente ? [ente.id] : visibleEnteIds(user), enti };
}

/** Collects the Italian message of a filter that does not parse, and gives undefined for it. */
class FilterErrors {
  readonly messages: string[] = [];

  day(filters: Filters, name: string, label: string): string | undefined {
    try {
      return parseDayInput(filters[name] ?? '', name) ?? undefined;
    } catch (err) {
      if (!isDomainError(err)) throw err;
      this.messages.push(`${label}: la data non è valida (usa gg/mm/aaaa).`);
      return undefined;
    }
  }

  oneOf<T extends string>(
    filters: Filters,
    name: string,
    allowed: readonly T[],
    label: string,
  ): T | undefined {
    const value = filters[name] ?? '';
    if (value === '') return undefined;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.messages.push(`${label}: valore non previsto.`);
    return undefined;
  }

  range(from: string | undefined, to: string | undefined): void {
    if (from && to && to < from) this.messages.push('La data finale è precedente a quella iniziale.');
  }
}

export function registerMonitoring(router: Router, ctx: PortalContext): void {
  const search = createPortalSearch(ctx.store.db);

  router.get(
    '/posizioni',
    handler(ctx, async (req, res) => {
      const filters = filtersOf(req, [
        'ente',
        'avviso',
        'iuv',
        'debitore',
        'posizione',
        'servizio',
        'stato',
        'dal',
        'al',
      ]);
      const { scope, enti } = await scopeOf(ctx, res, filters);
      const errors = new FilterErrors();
      const from = errors.day(filters, 'dal', 'Creata dal');
      const to = errors.day(filters, 'al', 'Creata fino al');
      errors.range(from, to);
      const status = errors.oneOf(filters, 'stato', POSITION_STATUSES, 'Stato');
      const page = pageOf(req);
      const result =
        errors.messages.length > 0
          ? null
          : await search.searchPositions({
              enteIds: scope,
              noticeNumber: compactCode(filters.avviso ?? '') || undefined,
              iuv: compactCode(filters.iuv ?? '') || undefined,
              debtor: filters.debitore || undefined,
              positionId: filters.posizione || undefined,
              serviceCode: filters.servizio || undefined,
              status,
              createdFrom: from ? romeMidnightIso(from) : undefined,
              createdTo: to ? romeMidnightIso(addDays(to, 1)) : undefined,
              limit: PAGE_SIZE,
              offset: (page - 1) * PAGE_SIZE,
            });
      sendPage(res, errors.messages.length > 0 ? 400 : 200, {
        title: 'Posizioni debitorie',
        active: `${PORTAL}/posizioni`,
        body: positionsBody({
          filters,
          errors: errors.messages,
          enti,
          serviceCodes: await search.serviceCodes(scope),
          result,
          page: { page, pageSize: PAGE_SIZE, total: result?.total ?? 0 },
        }),
      });
    }),
  );

  router.get(
    '/pagamenti',
    handler(ctx, async (req, res) => {
      const filters = filtersOf(req, [
        'ente',
        'avviso',
        'iuv',
        'pagatore',
        'esito',
        'riconciliazione',
        'psp',
        'dal',
        'al',
      ]);
      const { scope, enti } = await scopeOf(ctx, res, filters);
      const errors = new FilterErrors();
      const from = errors.day(filters, 'dal', 'Pagato dal');
      const to = errors.day(filters, 'al', 'Pagato fino al');
      errors.range(from, to);
      const outcome = errors.oneOf(filters, 'esito', OUTCOMES, 'Esito');
      const reconciliation = errors.oneOf(filters, 'riconciliazione', RECONCILIATIONS, 'Riconciliazione');
      const page = pageOf(req);
      const result =
        errors.messages.length > 0
          ? null
          : await search.searchPayments({
              enteIds: scope,
              noticeNumber: compactCode(filters.avviso ?? '') || undefined,
              iuv: compactCode(filters.iuv ?? '') || undefined,
              party: filters.pagatore || undefined,
              outcome,
              reconciliation,
              pspId: filters.psp || undefined,
              paidFrom: from,
              paidTo: to ? addDays(to, 1) : undefined,
              limit: PAGE_SIZE,
              offset: (page - 1) * PAGE_SIZE,
            });
      const receipts = result?.rows.map((r) => r.receipt) ?? [];
      sendPage(res, errors.messages.length > 0 ? 400 : 200, {
        title: 'Pagamenti',
        active: `${PORTAL}/pagamenti`,
        body: paymentsBody({
          filters,
          errors: errors.messages,
          enti,
          psps: await search.pspsOfReceipts(scope),
          result,
          flows: await search.flowsOfReceipts(receipts.map((r) => r.id)),
          anomalies: await search.iuvsWithOpenAnomalies(
            scope,
            receipts.map((r) => r.iuv),
          ),
          page: { page, pageSize: PAGE_SIZE, total: result?.total ?? 0 },
        }),
      });
    }),
  );

  router.get(
    '/riconciliazione',
    handler(ctx, async (req, res) => {
      const user = currentUser(res);
      const filters = filtersOf(req, ['ente', 'dal', 'al', 'stato', 'anomalie']);
      const enti = await enteChoices(ctx, user);
      // Reconciliation is per ente: an admin sees the one chosen, or the first.
      const ente =
        (await chosenEnte(ctx, res, filters.ente ?? '')) ?? (user.role === 'admin' ? enti[0] : null) ?? null;
      filters.ente = user.role === 'admin' && ente ? ente.fiscalCode : '';
      const errors = new FilterErrors();
      const today = italianDate(new Date());
      const from = errors.day(filters, 'dal', 'Regolati dal') ?? addDays(today, -DEFAULT_FLOW_DAYS);
      const to = errors.day(filters, 'al', 'Regolati fino al') ?? today;
      errors.range(from, to);
      const status = errors.oneOf(filters, 'stato', FLOW_STATUSES, 'Stato del flusso');
      const showResolved = filters.anomalie === 'tutte';
      if (!showResolved) filters.anomalie = '';
      const page = pageOf(req);
      const ok = ente !== null && errors.messages.length === 0;
      const summaries = ok
        ? await listFlowSummaries(ctx.store, ente.id, {
            fromDate: from,
            toDate: to,
            status,
            page,
            pageSize: PAGE_SIZE,
          })
        : null;
      const flowRowIds = new Map<string, number>();
      if (ente) {
        for (const flow of await ctx.store.reconciliationFlows.listLatest(ente.id))
          flowRowIds.set(`${flow.pspId}|${flow.flowId}`, flow.id);
      }
      sendPage(res, errors.messages.length > 0 ? 400 : 200, {
        title: 'Riconciliazione',
        active: `${PORTAL}/riconciliazione`,
        body: reconciliationBody(res, {
          filters,
          errors: errors.messages,
          enti: user.role === 'admin' ? enti : null,
          ente,
          flows: summaries?.flows ?? [],
          flowRowIds,
          page: { page, pageSize: PAGE_SIZE, total: summaries?.pageInfo.totalItems ?? 0 },
          credits: ok ? await unmatchedCredits(ctx.store, ente.id, { fromDate: from, toDate: to }) : [],
          anomalies: ente
            ? (
                await listAnomalies(ctx.store, { enteId: ente.id, status: showResolved ? undefined : 'OPEN' })
              ).reverse()
            : [],
          showResolved,
        }),
      });
    }),
  );

  router.get(
    '/riconciliazione/flussi/:id',
    handler(ctx, async (req, res) => {
      const id = Number(req.params.id);
      const scope = visibleEnteIds(currentUser(res));
      const flow = await requireVisibleFlow(ctx.store, scope, Number.isSafeInteger(id) ? id : 0);
      const ente = await ctx.store.enti.getById(flow.enteId);
      const lines = await ctx.store.reconciliationFlows.listLineDetails(flow.id);
      const optionIds = lines.flatMap((l) => (l.optionId === null ? [] : [l.optionId]));
      const anomalies = await ctx.store.anomalies.list({ enteId: flow.enteId, flowId: flow.flowId });
      sendPage(res, 200, {
        title: `Flusso ${flow.flowId}`,
        active: `${PORTAL}/riconciliazione`,
        lead: ente ? `${ente.name} (${ente.fiscalCode})` : undefined,
        body: flowDetailBody(res, {
          flow,
          view: await flowView(ctx.store, flow.enteId, flow.id),
          lines,
          positions: await search.positionsOfOptions(optionIds),
          anomalies: anomalies.filter((a) => a.pspId === null || a.pspId === flow.pspId),
          enteCode: ente?.fiscalCode ?? '',
        }),
      });
    }),
  );

  router.post(
    '/riconciliazione/anomalie/:id/risolvi',
    handler(ctx, async (req, res) => {
      const id = Number(req.params.id);
      const body = req.body as Record<string, unknown>;
      const scope = visibleEnteIds(currentUser(res));
      const back = (enteCode: string) =>
        `${PORTAL}/riconciliazione${/^\d{11}$/.test(enteCode) ? `?ente=${enteCode}` : ''}`;
      try {
        const resolved = await resolveVisibleAnomaly(
          ctx.store,
          scope,
          Number.isSafeInteger(id) ? id : 0,
          field(body, 'note'),
          actorOf(res),
        );
        await redirectWithFlash(ctx, res, back(resolved.enteFiscalCode), {
          kind: 'success',
          text: `Anomalia n. ${resolved.id} segnata come risolta.`,
        });
      } catch (err) {
        // A missing note or an anomaly already resolved: say so on the page the form came from.
        if (!isDomainError(err) || (err.code !== 'INVALID_INPUT' && err.code !== 'INVALID_STATE_TRANSITION'))
          throw err;
        const text =
          err.code === 'INVALID_INPUT'
            ? 'Scrivi una nota che spieghi perché l’anomalia è risolta.'
            : italianMessage(err);
        await redirectWithFlash(ctx, res, back(field(body, 'ente')), { kind: 'danger', text });
      }
    }),
  );

  router.get(
    '/notifiche',
    handler(ctx, async (req, res) => {
      const filters = filtersOf(req, ['ente', 'stato']);
      const { scope, enti } = await scopeOf(ctx, res, filters);
      const errors = new FilterErrors();
      const status = errors.oneOf<OutboxStatus>(filters, 'stato', OUTBOX_STATUSES, 'Stato');
      const page = pageOf(req);
      const fiscalCodes =
        scope === null
          ? null
          : (await ctx.store.enti.list()).filter((e) => scope.includes(e.id)).map((e) => e.fiscalCode);
      const result =
        errors.messages.length > 0
          ? null
          : await search.searchOutbox({
              enteFiscalCodes: fiscalCodes,
              status,
              limit: PAGE_SIZE,
              offset: (page - 1) * PAGE_SIZE,
            });
      const clients = new Map<string, string>();
      for (const target of new Set(result?.rows.map((m) => m.target) ?? [])) {
        const client = /^\d+$/.test(target) ? await ctx.store.clients.getById(Number(target)) : null;
        if (client) clients.set(target, client.name);
      }
      sendPage(res, errors.messages.length > 0 ? 400 : 200, {
        title: 'Notifiche ai gestionali',
        active: `${PORTAL}/notifiche`,
        body: outboxBody(res, {
          filters,
          errors: errors.messages,
          enti,
          result,
          clients,
          page: { page, pageSize: PAGE_SIZE, total: result?.total ?? 0 },
        }),
      });
    }),
  );

  router.post(
    '/notifiche/:id/reinvia',
    handler(ctx, async (req, res) => {
      const id = String(req.params.id).slice(0, 36);
      const scope = visibleEnteIds(currentUser(res));
      const result = await resendNotification(ctx.store, scope, id, actorOf(res));
      const flash =
        result.status === 'REPLAYED'
          ? { kind: 'success' as const, text: 'Notifica rimessa in coda: sarà inviata a breve.' }
          : {
              kind: 'warning' as const,
              text: 'Solo una notifica non consegnata può essere reinviata: questa è già in coda o consegnata.',
            };
      await redirectWithFlash(ctx, res, `${PORTAL}/notifiche`, flash);
    }),
  );
}
