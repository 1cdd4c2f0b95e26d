// One item of an upload (INSERT / UPDATE / CANCEL of a debt position, DESIGN §3): validated by the
// domain, idempotent by positionId, applied inside the caller's transaction. A failure is a
// DomainError whose `field` is the path in the item (position.option[0].transfer[1].iban), so the
// item is answered KO and the caller's savepoint leaves nothing of it behind.

import { domainError, isDomainError, type ErrorCode } from '../../domain/errors.ts';
import { isEditable } from '../../domain/positionState.ts';
import { validateDebtPosition, type DebtPosition, type DebtPositionDraft } from '../../domain/position.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Service } from '../../db/repositories/services.ts';
import type { NewAllocation } from '../../db/repositories/iuv.ts';
import type { Notice, StoredPosition } from '../../db/repositories/positions.ts';
import type { UploadAction } from '../../db/repositories/uploads.ts';
import type { MetadataEntry } from '../../db/repositories/positionExtras.ts';
import { issueNotices } from '../notices.ts';
import { isUnactivatedReservation, samePosition } from './positionMatch.ts';

export interface PositionInput {
  draft: DebtPositionDraft;
  /** Per option, in draft order: an IUV obtained beforehand with requestIUV(Batch), or null. */
  iuvs: Array<string | null>;
  metadata: MetadataEntry[];
}

export interface UploadItemInput {
  action: UploadAction;
  position?: PositionInput | undefined;
  cancellation?: { positionId: string; reason?: string | undefined } | undefined;
}

/** The numbers of one payment option after an INSERT or UPDATE (pt:ctNoticeOutcome). */
export interface NoticeResult {
  installment: number;
  iuv: string;
  noticeNumber: string;
  amountCents: number;
  dueDate: string;
}

export interface ItemError {
  code: ErrorCode;
  message: string;
  field?: string | undefined;
}

/** What an item did, as stored with the upload and answered to the gestionale. */
export interface ItemResult {
  sequence: number;
  positionId: string;
  action: UploadAction;
  outcome: 'OK' | 'KO';
  notices: NoticeResult[];
  error?: ItemError | undefined;
}

/** The ente, service and caller an upload acts for, and where fresh notices come from. */
export interface ItemContext {
  ente: Ente;
  service: Service;
  clientId: number | null;
  actor: string;
  /** Event-log cause prefix, e.g. `uploadDebtPositions 20240115-TARI-0001`. */
  cause: string;
  supply: NoticeSupply;
}

export function positionIdOf(item: UploadItemInput): string {
  return item.position?.draft.positionId ?? item.cancellation?.positionId ?? '';
}

/** Where the item names its positionId, as the fault's field. */
export function positionIdField(item: UploadItemInput): string {
  return item.position ? 'position.positionId' : 'cancellation.positionId';
}

/**
 * Notices issued before the item transactions (the sequence row is not held locked through them,
 * see src/app/positions.ts), handed out in order; if the plan was short (the stored positions
 * changed meanwhile), more are issued inside the caller's transaction.
 */
export class NoticeSupply {
  private readonly queue: NewAllocation[];

  constructor(
    private readonly ctx: { ente: Ente; service: Service; clientId: number | null },
    preissued: readonly NewAllocation[] = [],
  ) {
    this.queue = [...preissued];
  }

  async take(tx: Store): Promise<Notice> {
    const next = this.queue.shift() ?? (await this.issue(tx));
    return { iuv: next.iuv, noticeNumber: next.noticeNumber ?? null };
  }

  private async issue(tx: Store): Promise<NewAllocation> {
    const [fresh] = await issueNotices(tx, this.ctx.ente, 1, {
      purpose: 'position',
      serviceId: this.ctx.service.id,
      clientId: this.ctx.clientId,
    });
    return fresh as NewAllocation;
  }
}

/**
 * How many new notices the items will need: options without a given IUV, for positions not stored
 * yet (INSERT) or installments the stored position lacks (UPDATE). Read outside any transaction;
 * a wrong guess only costs an unused number or an issue inside the transaction.
 */
export async function freshNoticesNeeded(
  store: Store,
  ente: Ente,
  items: readonly UploadItemInput[],
): Promise<number> {
  let count = 0;
  for (const item of items) {
    const position = item.position;
    if (!position || item.action === 'CANCEL') continue;
    const stored = await store.positions.findByPositionId(ente.id, position.draft.positionId);
    if (item.action === 'INSERT' && stored) continue;
    const existing = new Set(stored?.options.map((o) => o.installment) ?? []);
    position.draft.options.forEach((o, i) => {
      if (!position.iuvs[i] && !existing.has(Number(o.installment))) count += 1;
    });
  }
  return count;
}

/** Domain field paths (options[0].transfers[1].iban) as paths in the upload item. */
export function itemField(field: unknown): string | undefined {
  if (typeof field !== 'string' || field === '') return undefined;
  return `position.${field.replace(/\boptions\b/g, 'option').replace(/\btransfers\b/g, 'transfer')}`;
}

function invalid(code: ErrorCode, message: string, field?: string): never {
  throw domainError(code, message, field ? { field } : {});
}

function validate(ctx: ItemContext, input: PositionInput): DebtPosition {
  try {
    return validateDebtPosition(input.draft, { enteFiscalCode: ctx.ente.fiscalCode });
  } catch (err) {
    if (!isDomainError(err)) throw err;
    // Re-thrown with the field as a path in the item; parsers (IBAN, fiscal code) name none.
    throw domainError(err.code, err.message, { ...err.details, field: itemField(err.details.field) });
  }
}

function noticesOf(position: StoredPosition): NoticeResult[] {
  return [...position.options]
    .sort((a, b) => a.installment - b.installment)
    .map((o) => ({
      installment: o.installment,
      iuv: o.iuv,
      noticeNumber: o.noticeNumber ?? '',
      amountCents: o.amountCents,
      dueDate: o.dueDate,
    }));
}

/**
 * The notice of an IUV the gestionale obtained with requestIUV: it must have been issued to this
 * ente for this service by requestIUV, and not be used by another option already.
 */
async function issuedNotice(
  tx: Store,
  ctx: ItemContext,
  iuv: string,
  optionIndex: number,
  owner: { position: StoredPosition; installment: number } | null,
): Promise<Notice> {
  const field = `position.option[${optionIndex}].iuv`;
  const allocation = await tx.iuv.findByIuv(ctx.ente.id, iuv);
  if (!allocation || allocation.purpose !== 'request' || allocation.serviceId !== ctx.service.id) {
    invalid('NOTICE_UNKNOWN', 'the IUV was not issued by requestIUV to this ente and service', field);
  }
  if (allocation.optionId !== null) {
    const own = owner?.position.options.find((o) => o.id === allocation.optionId);
    if (!own || own.installment !== owner?.installment)
      invalid('NOTICE_DUPLICATE', 'the IUV is already used by another payment option', field);
  }
  return { iuv, noticeNumber: allocation.noticeNumber };
}

async function requireStored(
  tx: Store,
  ctx: ItemContext,
  positionId: string,
  field: string,
): Promise<StoredPosition> {
  const stored = await tx.positions.findByPositionId(ctx.ente.id, positionId);
  // A position of another service is not visible through this service.
  if (!stored || stored.serviceId !== ctx.service.id) {
    invalid('POSITION_UNKNOWN', `no position ${positionId} in this service`, field);
  }
  if (isUnactivatedReservation(stored)) {
    invalid('INVALID_STATE_TRANSITION', 'a reserved multe notice changes only through activateNotice');
  }
  return stored;
}

async function attachAll(tx: Store, ente: Ente, position: StoredPosition): Promise<void> {
  for (const option of position.options) await tx.iuv.attach(ente.id, option.iuv, option.id);
}

async function insertItem(tx: Store, ctx: ItemContext, input: PositionInput): Promise<NoticeResult[]> {
  const position = validate(ctx, input);
  const existing = await tx.positions.findByPositionId(ctx.ente.id, position.positionId);
  if (existing) {
    const extras = await tx.positionExtras.get(existing.id);
    const same =
      existing.serviceId === ctx.service.id &&
      samePosition(existing, position, input.iuvs) &&
      JSON.stringify(extras.metadata) === JSON.stringify(input.metadata);
    if (same) return noticesOf(existing);
    invalid(
      'POSITION_DUPLICATE',
      `position ${position.positionId} exists with other content`,
      'position.positionId',
    );
  }
  const notices: Notice[] = [];
  for (let i = 0; i < position.options.length; i++) {
    const iuv = input.iuvs[i];
    notices.push(iuv ? await issuedNotice(tx, ctx, iuv, i, null) : await ctx.supply.take(tx));
  }
  const stored = await tx.positions.insert(ctx.ente.id, ctx.service.id, position, {
    notices,
    cause: ctx.cause,
    actor: ctx.actor,
  });
  await attachAll(tx, ctx.ente, stored);
  if (input.metadata.length)
    await tx.positionExtras.set(stored.id, { metadata: input.metadata, infringementDateTime: null });
  return noticesOf(stored);
}

async function updateItem(tx: Store, ctx: ItemContext, input: PositionInput): Promise<NoticeResult[]> {
  const position = validate(ctx, input);
  const stored = await requireStored(tx, ctx, position.positionId, 'position.positionId');
  if (!isEditable(stored.status)) {
    // `from` lets the file channels answer E_CANCELLED / E_PAID (rowCodeOfDomainError).
    throw domainError('INVALID_STATE_TRANSITION', `a ${stored.status} position cannot be updated`, {
      from: stored.status,
    });
  }
  const newNotices: Record<number, Notice> = {};
  for (const [i, option] of position.options.entries()) {
    const iuv = input.iuvs[i];
    const old = stored.options.find((o) => o.installment === option.installment);
    if (old) {
      if (iuv && iuv !== old.iuv)
        invalid('INVALID_INPUT', 'an option keeps the IUV it was given', `position.option[${i}].iuv`);
      continue;
    }
    const owner = { position: stored, installment: option.installment };
    newNotices[option.installment] = iuv
      ? await issuedNotice(tx, ctx, iuv, i, owner)
      : await ctx.supply.take(tx);
  }
  const updated = await tx.positions.update(stored.id, position, {
    newNotices,
    cause: ctx.cause,
    actor: ctx.actor,
  });
  await attachAll(tx, ctx.ente, updated);
  const extras = await tx.positionExtras.get(stored.id);
  await tx.positionExtras.set(stored.id, { ...extras, metadata: input.metadata });
  return noticesOf(updated);
}

async function cancelItem(
  tx: Store,
  ctx: ItemContext,
  cancellation: NonNullable<UploadItemInput['cancellation']>,
): Promise<NoticeResult[]> {
  const stored = await requireStored(tx, ctx, cancellation.positionId, 'cancellation.positionId');
  // Cancelling a cancelled position is a retry: OK, nothing to do.
  if (stored.status === 'CANCELLED') return [];
  await tx.positions.cancel(stored.id, {
    cause: cancellation.reason ? `${ctx.cause}: ${cancellation.reason}` : ctx.cause,
    actor: ctx.actor,
  });
  return [];
}

/** Applies one item in `tx` (the caller's savepoint); throws a DomainError when the item is KO. */
export function applyItem(tx: Store, ctx: ItemContext, item: UploadItemInput): Promise<NoticeResult[]> {
  switch (item.action) {
    case 'INSERT':
    case 'UPDATE':
      if (!item.position || item.cancellation) {
        invalid('INVALID_INPUT', `${item.action} carries a position, not a cancellation`, 'action');
      }
      return item.action === 'INSERT'
        ? insertItem(tx, ctx, item.position)
        : updateItem(tx, ctx, item.position);
    case 'CANCEL':
      if (!item.cancellation || item.position) {
        invalid('INVALID_INPUT', 'CANCEL carries a cancellation, not a position', 'action');
      }
      return cancelItem(tx, ctx, item.cancellation);
  }
}
