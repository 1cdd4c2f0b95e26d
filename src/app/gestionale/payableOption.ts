// The position and payment option a redirect (createPaymentSession, a startPayment cart item) is
// about: found in the ente by positionId or notice number and visible to the caller (a position of
// a service the credential is not bound to is POSITION_UNKNOWN, as in getDebtPosition), the option
// picked by the contract's default rule, and checked payable now with the rules the node applies.

import { domainError } from '../../domain/errors.ts';
import { assertOptionPayable } from '../../domain/payability.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { StoredOption, StoredPosition } from '../../db/repositories/positions.ts';
import type { GestionaleCaller } from './common.ts';

export interface OptionReference {
  positionId?: string | null;
  noticeNumber?: string | null;
  installment?: number | null;
}

export interface PayableOption {
  position: StoredPosition;
  option: StoredOption & { noticeNumber: string };
}

/** Field names are relative to the request, or to the cart item when `prefix` is given. */
function field(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

export async function findVisiblePosition(
  store: Store,
  ente: Ente,
  caller: GestionaleCaller,
  ref: OptionReference,
  prefix = '',
): Promise<StoredPosition> {
  const position = ref.positionId
    ? await store.positions.findByPositionId(ente.id, ref.positionId)
    : ref.noticeNumber
      ? await store.positions.findByNoticeNumber(ente.id, ref.noticeNumber)
      : null;
  if (!position || !caller.serviceIds.includes(position.serviceId)) {
    throw domainError('POSITION_UNKNOWN', 'no such position for this ente', {
      field: field(prefix, ref.positionId ? 'positionId' : 'noticeNumber'),
    });
  }
  return position;
}

/**
 * The option named by the notice number; else the installment asked for; else the single payment
 * (installment 0); else the first unpaid installment (gestionale.xsd, createPaymentSession).
 */
export function chooseOption(position: StoredPosition, ref: OptionReference, prefix = ''): StoredOption {
  const installment = ref.installment ?? null;
  if (ref.noticeNumber) {
    const named = position.options.find((o) => o.noticeNumber === ref.noticeNumber);
    if (named && (installment === null || installment === named.installment)) return named;
    throw domainError('INVALID_INPUT', 'the installment is not the one the notice number names', {
      field: field(prefix, 'installment'),
    });
  }
  if (installment !== null) {
    const asked = position.options.find((o) => o.installment === installment);
    if (asked) return asked;
    throw domainError('INVALID_INPUT', `the position has no installment ${installment}`, {
      field: field(prefix, 'installment'),
    });
  }
  const ordered = [...position.options].sort((a, b) => a.installment - b.installment);
  const single = ordered.find((o) => o.installment === 0);
  const choice = single ?? ordered.find((o) => o.status === 'UNPAID') ?? ordered[0];
  if (!choice) throw domainError('POSITION_UNKNOWN', 'the position has no payment option', { field: prefix });
  return choice;
}

/** Throws why the option cannot be paid now (not active, paid, cancelled, expired), else returns it. */
export function requirePayable(position: StoredPosition, option: StoredOption): PayableOption {
  assertOptionPayable(position, option);
  if (!option.noticeNumber) {
    throw domainError('INVALID_STATE_TRANSITION', 'the payment option has no notice number', {
      installment: option.installment,
    });
  }
  return { position, option: { ...option, noticeNumber: option.noticeNumber } };
}

export async function findPayableOption(
  store: Store,
  ente: Ente,
  caller: GestionaleCaller,
  ref: OptionReference,
  prefix = '',
): Promise<PayableOption> {
  const position = await findVisiblePosition(store, ente, caller, ref, prefix);
  return requirePayable(position, chooseOption(position, ref, prefix));
}
