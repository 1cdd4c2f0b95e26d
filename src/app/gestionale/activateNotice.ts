// activateNotice (Multe con preavviso, pagopa-facts §10): the officer's device wrote the fine, so the
// reserved notice gets its amount, due date, ticket, plate, optional reduced amount and optional
// debtor, and becomes payable (RESERVED → VALID). A fine is paid anonymously by default: the
// debtor is ANONIMO with a name that says whose fine it is. The same activation again is OK; an
// active notice with other data is NOTICE_ALREADY_ACTIVE; paid, released or expired ones are
// INVALID_STATE_TRANSITION.

import { domainError, isDomainError } from '../../domain/errors.ts';
import { parseAmountCents } from '../../domain/money.ts';
import {
  ANONYMOUS_DEBTOR,
  parseIsoDate,
  validateDebtPosition,
  type DebtPosition,
  type DebtorDraft,
} from '../../domain/position.ts';
import type { PositionStatus } from '../../domain/positionState.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Service } from '../../db/repositories/services.ts';
import type { MulteDetails, StoredPosition } from '../../db/repositories/positions.ts';
import type { PositionExtras } from '../../db/repositories/positionExtras.ts';
import type { GestionaleCaller } from './common.ts';
import { requireReservedNotice } from './multeNotices.ts';
import { samePosition } from './positionMatch.ts';

export interface ActivateNoticeInput {
  ente: Ente;
  caller: GestionaleCaller;
  noticeNumber: string;
  /** The gestionale's id for the fine; the notice number stays the id when absent. */
  positionId?: string | null;
  description?: string | null;
  ticketNumber: string;
  plate: string;
  /** xs:dateTime text, kept as sent. */
  infringementDateTime?: string | null;
  amountCents: number | string;
  dueDate: string;
  /** Both or neither: the reduced amount payable up to and including reducedUntil. */
  reducedAmountCents?: number | string | null;
  reducedUntil?: string | null;
  debtor?: DebtorDraft | null;
}

export interface ActivatedNotice {
  positionId: string;
  iuv: string;
  noticeNumber: string;
  status: PositionStatus;
}

const DESCRIPTION_MAX = 140;
const FULL_NAME_MAX = 70;

/** The fine as the position it becomes: validated by the domain, plus its multe details. */
interface Activation {
  position: DebtPosition;
  multe: MulteDetails;
  extras: PositionExtras;
}

function invalid(field: string, message: string): never {
  throw domainError('INVALID_INPUT', message, { field });
}

/** Domain paths of the one option and transfer an activation builds, as request element names. */
function requestField(field: unknown): string | undefined {
  if (typeof field !== 'string') return undefined;
  return field.replace(/^options\[0\]\.(transfers\[0\]\.)?/, '');
}

function reductionOf(input: ActivateNoticeInput, amountCents: number, dueDate: string) {
  if (input.reducedAmountCents == null && input.reducedUntil == null) {
    return { reducedAmountCents: null, reducedUntil: null };
  }
  if (input.reducedAmountCents == null || input.reducedUntil == null) {
    invalid('reducedUntil', 'reducedAmountCents and reducedUntil go together');
  }
  const reduced = parseAmountCents(input.reducedAmountCents);
  if (reduced < 1 || reduced >= amountCents) {
    invalid('reducedAmountCents', 'the reduced amount must be less than the amount');
  }
  const until = parseIsoDate(input.reducedUntil, 'reducedUntil');
  if (until > dueDate) invalid('reducedUntil', 'the reduction must end by the due date');
  return { reducedAmountCents: reduced, reducedUntil: until };
}

function activationOf(
  ente: Ente,
  service: Service,
  stored: StoredPosition,
  input: ActivateNoticeInput,
): Activation {
  const ticketNumber = input.ticketNumber.trim();
  const description = (
    input.description?.trim() || `Sanzione codice della strada, verbale n. ${ticketNumber}`
  ).slice(0, DESCRIPTION_MAX);
  const debtor: DebtorDraft = input.debtor ?? {
    type: 'F',
    fiscalCode: ANONYMOUS_DEBTOR,
    fullName: `Proprietario del veicolo, verbale n. ${ticketNumber}`.slice(0, FULL_NAME_MAX),
  };
  const iban = service.iban ?? ente.iban;
  if (!iban) {
    throw domainError('CONFIG_INVALID', `service ${service.code} has no IBAN to credit the fine on`, {
      serviceCode: service.code,
    });
  }
  let position: DebtPosition;
  try {
    position = validateDebtPosition(
      {
        positionId: input.positionId ?? stored.positionId,
        description,
        debtor,
        options: [
          {
            installment: 0,
            amountCents: input.amountCents,
            dueDate: input.dueDate,
            transfers: [
              {
                amountCents: input.amountCents,
                iban,
                category: service.category,
                remittanceInformation: description,
              },
            ],
          },
        ],
      },
      { enteFiscalCode: ente.fiscalCode },
    );
  } catch (err) {
    if (!isDomainError(err)) throw err;
    throw domainError(err.code, err.message, { ...err.details, field: requestField(err.details.field) });
  }
  const option = position.options[0] as DebtPosition['options'][number];
  const reduction = reductionOf(input, option.amountCents, option.dueDate);
  return {
    position,
    multe: { ticketNumber, plate: input.plate, ...reduction },
    extras: { metadata: [], infringementDateTime: input.infringementDateTime ?? null },
  };
}

async function sameActivation(store: Store, stored: StoredPosition, wanted: Activation): Promise<boolean> {
  const multe = stored.multe;
  const extras = await store.positionExtras.get(stored.id);
  return (
    samePosition(stored, wanted.position) &&
    multe !== null &&
    multe.ticketNumber === wanted.multe.ticketNumber &&
    multe.plate === wanted.multe.plate &&
    multe.reducedAmountCents === wanted.multe.reducedAmountCents &&
    multe.reducedUntil === wanted.multe.reducedUntil &&
    extras.infringementDateTime === wanted.extras.infringementDateTime
  );
}

function answerOf(position: { positionId: string; status: PositionStatus }, stored: StoredPosition) {
  const option = stored.options[0];
  return {
    positionId: position.positionId,
    iuv: option?.iuv ?? '',
    noticeNumber: option?.noticeNumber ?? '',
    status: position.status,
  };
}

export async function activateNotice(store: Store, input: ActivateNoticeInput): Promise<ActivatedNotice> {
  const { ente, caller } = input;
  const stored = await requireReservedNotice(store, ente, caller, input.noticeNumber);
  const service = await store.services.getById(stored.serviceId);
  if (!service) throw domainError('SERVICE_UNKNOWN', 'the notice has no service', {});
  const wanted = activationOf(ente, service, stored, input);
  if (stored.status === 'VALID') {
    if (await sameActivation(store, stored, wanted)) return answerOf(stored, stored);
    throw domainError('NOTICE_ALREADY_ACTIVE', 'the notice is already active with other data', {
      field: 'noticeNumber',
    });
  }
  if (stored.status !== 'RESERVED') {
    throw domainError('INVALID_STATE_TRANSITION', `a ${stored.status} notice cannot be activated`, {
      from: stored.status,
      field: 'noticeNumber',
    });
  }
  const change = { cause: `activateNotice ticket ${wanted.multe.ticketNumber}`, actor: caller.actor };
  const activated = await store
    .transaction(async (tx) => {
      // The version read above guards the first write: a concurrent activation makes this one
      // CONCURRENT_UPDATE instead of overwriting it.
      const renamed = await tx.positions.renamePositionId(stored.id, wanted.position.positionId, {
        ...change,
        expectedVersion: stored.version,
      });
      await tx.positions.update(stored.id, wanted.position, {
        ...change,
        expectedVersion: renamed.version,
        multe: wanted.multe,
      });
      const header = await tx.positions.transition(stored.id, 'VALID', change);
      await tx.positionExtras.set(stored.id, wanted.extras);
      return header;
    })
    .catch((err: unknown) => {
      if (!isDomainError(err, 'POSITION_DUPLICATE')) throw err;
      throw domainError(err.code, 'the positionId is already used in the ente', { field: 'positionId' });
    });
  return answerOf(activated, stored);
}
