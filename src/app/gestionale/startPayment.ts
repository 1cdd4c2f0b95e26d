// Sincrona model (DESIGN §2): startPayment creates the cart's new positions (INSERT, idempotent by
// positionId, as in uploadDebtPositions), picks the option of each item, opens the payment with the
// node (checkout cart or RPTs by the station's dialect) and answers the checkout URL at once.
//
// All or nothing. The items are stored in one transaction: one bad item leaves nothing. The node is
// called after that transaction (a DB transaction must not wait on the network, and the embedded
// emulator needs the database to answer); if it does not open the payment, the positions this call
// created are removed again (compensation: their IUVs stay allocated and unused, the event log keeps
// both steps) and the answer is NODE_UNAVAILABLE. Without a node at all nothing is written (checks
// that need no writing, return URLs and existing items, come first).

import { randomUUID } from 'node:crypto';
import { domainError, isDomainError } from '../../domain/errors.ts';
import { validateDebtPosition } from '../../domain/position.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { StoredOption, StoredPosition } from '../../db/repositories/positions.ts';
import { issueNotices } from '../notices.ts';
import { startOnlinePayment, MAX_CART_NOTICES } from '../pagopa/rptPayments.ts';
import type { GestionaleCaller, ServiceScope } from './common.ts';
import { chooseOption, findVisiblePosition, requirePayable, type PayableOption } from './payableOption.ts';
import type { RedirectSettings } from './paymentSession.ts';
import { checkReturnUrls, withOutcome } from './returnUrls.ts';
import {
  applyItem,
  freshNoticesNeeded,
  NoticeSupply,
  type ItemContext,
  type PositionInput,
  type UploadItemInput,
} from './uploadItems.ts';

/** One cart item: a new position, or an existing one by positionId or notice number. */
export interface CartItemInput {
  position?: PositionInput | undefined;
  positionId?: string | undefined;
  noticeNumber?: string | undefined;
  installment?: number | null | undefined;
}

export interface StartPaymentRequest extends ServiceScope {
  caller: GestionaleCaller;
  items: CartItemInput[];
  returnUrl: string;
  cancelUrl?: string | null;
}

/** One cart item's numbers (g:ctCartNotice). */
export interface CartNotice {
  positionId: string;
  installment: number;
  iuv: string;
  noticeNumber: string;
  amountCents: number;
}

export interface StartedPayment {
  cartId: string;
  checkoutUrl: string;
  /** ISO-8601 UTC: how long the connector expects the checkout session to stay open. */
  expiresAt: string;
  notices: CartNotice[];
}

interface PreparedCart {
  payables: PayableOption[];
  /** Positions this call created, at the version it left them: what compensation may remove. */
  created: Array<{ id: number; version: number }>;
}

function itemPrefix(index: number): string {
  return `cartItem[${index}]`;
}

function checkCartShape(items: readonly CartItemInput[]): void {
  if (items.length < 1 || items.length > MAX_CART_NOTICES) {
    throw domainError('INVALID_INPUT', `a cart holds 1 to ${MAX_CART_NOTICES} items`, { field: 'cartItem' });
  }
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const key = item.position?.draft.positionId ?? item.positionId;
    if (key === undefined) return;
    if (seen.has(key)) {
      throw domainError('INVALID_INPUT', 'the same position twice in one cart', {
        field: `${itemPrefix(i)}.${item.position ? 'position.positionId' : 'positionId'}`,
      });
    }
    seen.add(key);
  });
}

/** A domain error of an item, with its field as a path in the request. */
function inItem(err: unknown, index: number): unknown {
  if (!isDomainError(err)) return err;
  const field = typeof err.details.field === 'string' && err.details.field ? `.${err.details.field}` : '';
  return domainError(err.code, err.message, { ...err.details, field: `${itemPrefix(index)}${field}` });
}

async function newPosition(
  tx: Store,
  ctx: ItemContext,
  input: PositionInput,
  created: PreparedCart['created'],
): Promise<StoredPosition> {
  const positionId = input.draft.positionId;
  const existed = await tx.positions.findByPositionId(ctx.ente.id, positionId);
  await applyItem(tx, ctx, { action: 'INSERT', position: input });
  const stored = await tx.positions.findByPositionId(ctx.ente.id, positionId);
  if (!stored) throw new Error(`startPayment: position ${positionId} not found after its insert`);
  if (!existed) created.push({ id: stored.id, version: stored.version });
  return stored;
}

/**
 * The existing positions of the cart, checked before anything else (visible to the caller, option
 * payable), so a bad reference is answered as such whatever the node's state; prepareCart checks
 * them again inside its transaction.
 */
async function checkExistingItems(store: Store, request: StartPaymentRequest): Promise<void> {
  for (const [i, item] of request.items.entries()) {
    if (item.position) continue;
    try {
      const position = await findVisiblePosition(store, request.ente, request.caller, item);
      requirePayable(position, chooseOption(position, item));
    } catch (err) {
      throw inItem(err, i);
    }
  }
}

function isValidDraft(input: PositionInput | undefined, ente: Ente): boolean {
  if (!input) return true;
  try {
    validateDebtPosition(input.draft, { enteFiscalCode: ente.fiscalCode });
    return true;
  } catch (err) {
    if (isDomainError(err)) return false;
    throw err;
  }
}

/** Stores the new positions and checks every item payable, in one transaction. */
async function prepareCart(store: Store, request: StartPaymentRequest): Promise<PreparedCart> {
  const { ente, service, caller } = request;
  const inserts: UploadItemInput[] = request.items
    .filter((item) => item.position)
    .map((item) => ({ action: 'INSERT', position: item.position }));
  // Numbers are pre-issued outside the transaction, so only for a cart whose new positions are all
  // valid: otherwise the transaction refuses the bad item and nothing, not even a number, is used.
  const fresh = inserts.every((item) => isValidDraft(item.position, ente))
    ? await freshNoticesNeeded(store, ente, inserts)
    : 0;
  const scope = { ente, service, clientId: caller.clientId };
  const preissued =
    fresh > 0
      ? await issueNotices(store, ente, fresh, {
          purpose: 'position',
          serviceId: service.id,
          clientId: caller.clientId,
        })
      : [];
  return store.transaction(async (tx) => {
    const created: PreparedCart['created'] = [];
    const payables: PayableOption[] = [];
    const ctx: ItemContext = {
      ...scope,
      actor: caller.actor,
      cause: 'startPayment',
      supply: new NoticeSupply(scope, preissued),
    };
    for (const [i, item] of request.items.entries()) {
      try {
        const position = item.position
          ? await newPosition(tx, { ...ctx, cause: `startPayment item ${i + 1}` }, item.position, created)
          : await findVisiblePosition(tx, ente, caller, item);
        const option: StoredOption = chooseOption(position, item);
        payables.push(requirePayable(position, option));
      } catch (err) {
        throw inItem(err, i);
      }
    }
    const notices = payables.map((p) => p.option.noticeNumber);
    const twice = notices.findIndex((n, i) => notices.indexOf(n) !== i);
    if (twice >= 0) {
      throw domainError('INVALID_INPUT', 'the same notice twice in one cart', { field: itemPrefix(twice) });
    }
    return { payables, created };
  });
}

/** Removes what this call created; a position that moved on meanwhile (paid, changed) is left alone. */
async function undoCreated(store: Store, created: PreparedCart['created'], actor: string, why: string) {
  for (const position of created) {
    try {
      await store.positions.removeUnused(position.id, {
        expectedVersion: position.version,
        cause: `startPayment: ${why}; the position created for the cart is removed`,
        actor,
      });
    } catch (err) {
      if (!isDomainError(err)) throw err;
    }
  }
}

export async function startPayment(
  store: Store,
  settings: RedirectSettings,
  request: StartPaymentRequest,
): Promise<StartedPayment> {
  const cancelUrl = request.cancelUrl ?? null;
  await checkReturnUrls(store, request.caller, { returnUrl: request.returnUrl, cancelUrl });
  checkCartShape(request.items);
  await checkExistingItems(store, request);
  // No node, no payment: refused before anything is written.
  const node = settings.access.node();
  const { payables, created } = await prepareCart(store, request);
  const cartId = randomUUID().replace(/-/g, '');
  const now = settings.clock?.() ?? new Date();
  let checkoutUrl: string;
  let nodeCartId: string | null = null;
  try {
    const result = await startOnlinePayment(store, node, {
      enteFiscalCode: request.ente.fiscalCode,
      noticeNumbers: payables.map((p) => p.option.noticeNumber),
      returnUrls: {
        returnOkUrl: withOutcome(request.returnUrl, { outcome: 'OK', cartId }),
        returnCancelUrl: withOutcome(cancelUrl ?? request.returnUrl, { outcome: 'CANCEL', cartId }),
        returnErrorUrl: withOutcome(request.returnUrl, { outcome: 'ERROR', cartId }),
      },
      idCart: cartId,
      actor: request.caller.actor,
      now,
    });
    if (result.status !== 'redirect') {
      const why = result.status === 'unavailable' ? result.reason : (result.fault?.faultCode ?? 'refused');
      throw domainError('NODE_UNAVAILABLE', `the pagoPA node could not open the payment: ${why}`, {});
    }
    checkoutUrl = result.url;
    if ('cartId' in result) nodeCartId = result.cartId;
  } catch (err) {
    const why = isDomainError(err) ? err.code : 'unexpected error';
    await undoCreated(store, created, request.caller.actor, why);
    throw err;
  }
  return {
    cartId: nodeCartId ?? cartId,
    checkoutUrl,
    expiresAt: new Date(now.getTime() + settings.sessionTtlMs).toISOString(),
    notices: payables.map(({ position, option }) => ({
      positionId: position.positionId,
      installment: option.installment,
      iuv: option.iuv,
      noticeNumber: option.noticeNumber,
      amountCents: option.amountCents,
    })),
  };
}
