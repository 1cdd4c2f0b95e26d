// One batch of a file's items (records and row errors, in file order) applied in ONE transaction
// with the lines that answer them: the import's fence first (owner, next_item), then each record in
// its own savepoint through the gestionale upload path (applyItem: validation, IUV assignment,
// events), then the lines. A crash loses the whole batch or nothing; a resumed import starts at the
// first item without lines, so no record is applied twice and none is skipped.
//
// Per-row idempotency: an INSERT whose positionId the ente already has is E_ALREADY_EXISTS (a
// resumed batch never sees its own positions, the fence makes it start after them). Notice numbers
// are issued before the transaction (the IUV sequence is not held locked through it); a rolled-back
// batch leaves them issued and unused, which is harmless: an IUV is never reissued.

import { domainError, isDomainError } from '../../domain/errors.ts';
import { validateDebtPosition, type DebtPosition } from '../../domain/position.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Service } from '../../db/repositories/services.ts';
import type { ImportLine, NewFilePosition } from '../../db/repositories/imports.ts';
import { issueNotices } from '../../app/notices.ts';
import {
  applyItem,
  itemField,
  NoticeSupply,
  type ItemContext,
  type NoticeResult,
  type PositionInput,
  type UploadItemInput,
} from '../../app/gestionale/uploadItems.ts';
import { outcomeLineOfError, outcomeLinesOf, type RecordResult } from '../formats/outcome.ts';
import {
  rowCodeOfDomainError,
  type ImportItem,
  type ImportRecord,
  type OutcomeLine,
  type PatchRecord,
  type RowErrorCode,
} from '../formats/types.ts';
import { itemOfCancel, itemOfPatch, itemOfPosition, type RecordScope } from './records.ts';

/** What a batch is applied for. */
export interface BatchScope {
  ente: Ente;
  importId: string;
  owner: string;
  fileName: string;
  actor: string;
  /** The service of records that name none (the XML header's, a PiemontePay list's). */
  defaultServiceCode?: string | undefined;
  /** XML inputs: keep every option's numbers on the line, for the XML outcome. */
  keepNotices: boolean;
}

/** An item with its 0-based place in the file. */
export interface PendingItem {
  itemNo: number;
  item: ImportItem;
}

export interface BatchReport {
  lines: number;
  ok: number;
  warn: number;
  ko: number;
}

/** The ente's services, read once per import (outside any transaction). */
export class ServiceCache {
  private readonly byCodes = new Map<string, Service | null>();
  private readonly byIds = new Map<number, Service | null>();

  constructor(
    private readonly store: Store,
    private readonly ente: Ente,
  ) {}

  async byCode(code: string): Promise<Service | null> {
    if (!this.byCodes.has(code)) this.remember(code, await this.store.services.get(this.ente.id, code));
    return this.byCodes.get(code) ?? null;
  }

  async byId(id: number): Promise<Service | null> {
    if (!this.byIds.has(id)) {
      const service = await this.store.services.getById(id);
      this.byIds.set(id, service);
      if (service) this.byCodes.set(service.code, service);
    }
    return this.byIds.get(id) ?? null;
  }

  private remember(code: string, service: Service | null): void {
    this.byCodes.set(code, service);
    if (service) this.byIds.set(service.id, service);
  }
}

type Plan =
  | { kind: 'answered'; lines: ImportLine[] }
  | { kind: 'apply'; itemNo: number; record: ImportRecord; scope: RecordScope; item: UploadItemInput }
  | { kind: 'patch'; itemNo: number; record: PatchRecord; scope: RecordScope };

function ko(code: RowErrorCode, message: string, field?: string): RecordResult {
  return { outcome: 'KO', code, message, field };
}

function koOfError(err: unknown): RecordResult {
  if (!isDomainError(err)) throw err;
  const field = typeof err.details.field === 'string' ? err.details.field : undefined;
  return ko(rowCodeOfDomainError(err.code, err.details), err.message, field);
}

function importLineOf(
  itemNo: number,
  serviceId: number | null,
  line: OutcomeLine,
  notices: unknown = null,
): ImportLine {
  return {
    rowNo: line.rowNo,
    itemNo,
    serviceId,
    positionId: line.positionId ?? null,
    installmentNo: line.installmentNo ?? null,
    action: line.action ?? null,
    outcome: line.outcome,
    errorCode: line.errorCode ?? null,
    errorMessage: line.errorMessage ?? null,
    iuv: line.iuv ?? null,
    noticeNumber: line.noticeNumber ?? null,
    amountCents: line.amountCents ?? null,
    dueDate: line.dueDate ?? null,
    notices,
  };
}

function linesOfRecord(
  itemNo: number,
  record: ImportRecord,
  service: Service | null,
  result: RecordResult,
  keepNotices: boolean,
): ImportLine[] {
  const notices = keepNotices && result.outcome === 'OK' ? result.notices : null;
  return outcomeLinesOf(record, result).map((line) =>
    importLineOf(itemNo, service?.id ?? null, line, notices),
  );
}

/** Decides, before the transaction, what a record needs: its service, its upload item, or its KO. */
async function planOf(
  store: Store,
  services: ServiceCache,
  scope: BatchScope,
  pending: PendingItem,
): Promise<Plan> {
  const { itemNo, item } = pending;
  if (item.error)
    return { kind: 'answered', lines: [importLineOf(itemNo, null, outcomeLineOfError(item.error))] };
  const record = item.record;
  const answered = (result: RecordResult, service: Service | null = null): Plan => ({
    kind: 'answered',
    lines: linesOfRecord(itemNo, record, service, result, scope.keepNotices),
  });
  const code = record.serviceCode ?? scope.defaultServiceCode;
  let service: Service | null;
  if (code) {
    service = await services.byCode(code);
    if (!service) return answered(ko('E_SERVICE_UNKNOWN', `the ente has no service ${code}`, 'service_code'));
  } else {
    // CANCEL rows (and partial updates) may name no service: the stored position's is meant.
    const stored = await store.positions.findByPositionId(scope.ente.id, record.positionId);
    if (!stored) {
      return record.action === 'INSERT'
        ? answered(ko('E_SERVICE_UNKNOWN', 'the record names no service', 'service_code'))
        : answered(ko('E_NOT_FOUND', `no position ${record.positionId}`));
    }
    service = await services.byId(stored.serviceId);
    if (!service) return answered(ko('E_NOT_FOUND', `no position ${record.positionId}`));
  }
  if (service.status !== 'active') {
    return answered(ko('E_SERVICE_DISABLED', `service ${service.code} is disabled`, 'service_code'), service);
  }
  const recordScope: RecordScope = { ente: scope.ente, service };
  if ('patch' in record) return { kind: 'patch', itemNo, record, scope: recordScope };
  try {
    const upload = record.action === 'CANCEL' ? itemOfCancel(record) : itemOfPosition(record, recordScope);
    return { kind: 'apply', itemNo, record, scope: recordScope, item: upload };
  } catch (err) {
    return answered(koOfError(err), service);
  }
}

// validateDebtPosition is pure: its answer for a draft (position or DomainError) is kept, so a
// record checked before the transaction (freshNotices) is not checked again inside it.
const validations = new WeakMap<PositionInput['draft'], { enteFiscalCode: string; result: unknown }>();

/** validateDebtPosition(draft) for the ente, once per draft; throws its DomainError. */
function validatedOnce(ente: Ente, draft: PositionInput['draft']): DebtPosition {
  let known = validations.get(draft);
  if (!known || known.enteFiscalCode !== ente.fiscalCode) {
    let result: unknown;
    try {
      result = validateDebtPosition(draft, { enteFiscalCode: ente.fiscalCode });
    } catch (err) {
      if (!isDomainError(err)) throw err;
      result = err;
    }
    known = { enteFiscalCode: ente.fiscalCode, result };
    validations.set(draft, known);
  }
  if (isDomainError(known.result)) throw known.result;
  return known.result as DebtPosition;
}

/** Options that need a fresh notice: INSERTs of positions the ente lacks, valid, without a given IUV. */
function freshNotices(ente: Ente, plan: Plan, existing: ReadonlySet<string>): number {
  if (plan.kind !== 'apply' || plan.item.action !== 'INSERT' || !plan.item.position) return 0;
  const { draft, iuvs } = plan.item.position;
  if (existing.has(draft.positionId)) return 0;
  try {
    validatedOnce(ente, draft);
  } catch (err) {
    if (isDomainError(err)) return 0;
    throw err;
  }
  return iuvs.filter((iuv) => !iuv).length;
}

/** Issues the batch's notices per service, before its transaction; UPDATEs issue more inside if needed. */
async function suppliesFor(
  store: Store,
  ente: Ente,
  plans: readonly Plan[],
): Promise<Map<number, NoticeSupply>> {
  const insertIds = plans.flatMap((p) =>
    p.kind === 'apply' && p.item.action === 'INSERT' ? [p.record.positionId] : [],
  );
  const existing = insertIds.length
    ? await store.imports.existingPositionIds(ente.id, insertIds)
    : new Set<string>();
  const needs = new Map<number, { service: Service; count: number }>();
  for (const plan of plans) {
    if (plan.kind === 'answered') continue;
    const need = needs.get(plan.scope.service.id) ?? { service: plan.scope.service, count: 0 };
    need.count += freshNotices(ente, plan, existing);
    needs.set(plan.scope.service.id, need);
  }
  const supplies = new Map<number, NoticeSupply>();
  for (const { service, count } of needs.values()) {
    const scope = { ente, service, clientId: null };
    const issued = count
      ? await issueNotices(store, ente, count, { purpose: 'position', serviceId: service.id, clientId: null })
      : [];
    supplies.set(service.id, new NoticeSupply(scope, issued));
  }
  return supplies;
}

type ApplyPlan = Extract<Plan, { kind: 'apply' }>;

function causeOf(scope: BatchScope, record: ImportRecord): string {
  return `file ${scope.fileName} (import ${scope.importId}) line ${record.lines[0] ?? 0}`;
}

/**
 * The position of an INSERT that can be stored in bulk: a new positionId and no IUV given in advance
 * (those are checked one by one against requestIUV's register by applyItem). Null otherwise.
 */
function plainInsertOf(
  plan: Exclude<Plan, { kind: 'answered' }>,
  existing: ReadonlySet<string>,
): PositionInput | null {
  if (plan.kind !== 'apply' || plan.item.action !== 'INSERT' || !plan.item.position) return null;
  if (existing.has(plan.record.positionId)) return null;
  return plan.item.position.iuvs.some((iuv) => iuv) ? null : plan.item.position;
}

/** validateDebtPosition with the field named as applyItem names it (position.option[0]...). */
function validatedForInsert(ente: Ente, input: PositionInput): DebtPosition {
  try {
    return validatedOnce(ente, input.draft);
  } catch (err) {
    if (!isDomainError(err)) throw err;
    throw domainError(err.code, err.message, { ...err.details, field: itemField(err.details.field) });
  }
}

function noticeResultsOf(position: DebtPosition, notices: NewFilePosition['notices']): NoticeResult[] {
  return position.options
    .map((option, i) => ({
      installment: option.installment,
      iuv: notices[i]?.iuv ?? '',
      noticeNumber: notices[i]?.noticeNumber ?? '',
      amountCents: option.amountCents,
      dueDate: option.dueDate,
    }))
    .sort((a, b) => a.installment - b.installment);
}

async function applyPlan(
  tx: Store,
  scope: BatchScope,
  plan: Exclude<Plan, { kind: 'answered' }>,
  supply: NoticeSupply,
  existing: ReadonlySet<string>,
): Promise<ImportLine[]> {
  const { record, itemNo } = plan;
  const service = plan.scope.service;
  const lines = (result: RecordResult) => linesOfRecord(itemNo, record, service, result, scope.keepNotices);
  if (record.action === 'INSERT' && existing.has(record.positionId)) {
    return lines(
      ko(
        'E_ALREADY_EXISTS',
        `position ${record.positionId} already exists: update it with M, or cancel it with A`,
        'position_id',
      ),
    );
  }
  const ctx: ItemContext = {
    ente: scope.ente,
    service,
    clientId: null,
    actor: scope.actor,
    cause: causeOf(scope, record),
    supply,
  };
  try {
    const notices = await tx.transaction(async (itemTx) => {
      if (plan.kind === 'apply') return applyItem(itemTx, ctx, plan.item);
      const stored = await itemTx.positions.findByPositionId(scope.ente.id, plan.record.positionId);
      if (!stored) throw domainError('POSITION_UNKNOWN', `no position ${plan.record.positionId}`);
      const extras = await itemTx.positionExtras.get(stored.id);
      return applyItem(itemTx, ctx, itemOfPatch(plan.record, stored, extras.metadata, plan.scope));
    });
    return lines({ outcome: 'OK', notices });
  } catch (err) {
    return lines(koOfError(err));
  }
}

function reportOf(lines: readonly ImportLine[]): BatchReport {
  const count = (outcome: ImportLine['outcome']) => lines.filter((l) => l.outcome === outcome).length;
  return { lines: lines.length, ok: count('OK'), warn: count('WARN'), ko: count('KO') };
}

/**
 * Applies `items` (consecutive, starting at the import's next_item) in one transaction with their
 * lines. Throws CONCURRENT_UPDATE, changing nothing, when the import is no longer this owner's.
 */
export async function applyBatch(
  store: Store,
  services: ServiceCache,
  scope: BatchScope,
  items: readonly PendingItem[],
): Promise<BatchReport> {
  const first = items[0];
  if (!first) return { lines: 0, ok: 0, warn: 0, ko: 0 };
  const plans: Plan[] = [];
  for (const pending of items) plans.push(await planOf(store, services, scope, pending));
  const supplies = await suppliesFor(store, scope.ente, plans);
  const insertIds = plans.flatMap((p) =>
    p.kind === 'apply' && p.item.action === 'INSERT' ? [p.record.positionId] : [],
  );
  return store.transaction(async (tx) => {
    await tx.imports.advance(scope.importId, scope.owner, first.itemNo, first.itemNo + items.length);
    const existing = insertIds.length
      ? await tx.imports.existingPositionIds(scope.ente.id, insertIds)
      : new Set<string>();
    const answers = new Map<Plan, ImportLine[]>();
    const bulk: Array<{ plan: ApplyPlan; row: NewFilePosition; metadata: PositionInput['metadata'] }> = [];
    for (const plan of plans) {
      if (plan.kind === 'answered') continue;
      const supply = supplies.get(plan.scope.service.id) as NoticeSupply;
      const plain = plainInsertOf(plan, existing);
      if (!plain) continue;
      try {
        const position = validatedForInsert(scope.ente, plain);
        const notices = [];
        for (let i = 0; i < position.options.length; i++) notices.push(await supply.take(tx));
        const cause = causeOf(scope, plan.record);
        bulk.push({
          plan: plan as ApplyPlan,
          row: { serviceId: plan.scope.service.id, position, notices, cause },
          metadata: plain.metadata,
        });
      } catch (err) {
        answers.set(
          plan,
          linesOfRecord(plan.itemNo, plan.record, plan.scope.service, koOfError(err), scope.keepNotices),
        );
      }
    }
    const rowIds = await tx.imports.insertPositions(
      scope.ente.id,
      bulk.map((b) => b.row),
      scope.actor,
    );
    for (const { plan, row, metadata } of bulk) {
      const rowId = rowIds.get(row.position.positionId) as number;
      if (metadata.length) await tx.positionExtras.set(rowId, { metadata, infringementDateTime: null });
      const result: RecordResult = { outcome: 'OK', notices: noticeResultsOf(row.position, row.notices) };
      answers.set(
        plan,
        linesOfRecord(plan.itemNo, plan.record, plan.scope.service, result, scope.keepNotices),
      );
    }
    const lines: ImportLine[] = [];
    for (const plan of plans) {
      if (plan.kind === 'answered') lines.push(...plan.lines);
      else {
        const supply = supplies.get(plan.scope.service.id) as NoticeSupply;
        lines.push(...(answers.get(plan) ?? (await applyPlan(tx, scope, plan, supply, existing))));
      }
    }
    await tx.imports.insertLines(scope.importId, lines);
    return reportOf(lines);
  });
}
