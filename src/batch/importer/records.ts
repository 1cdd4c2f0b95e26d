// From an ImportRecord (any drop-folder format) to the item the gestionale upload path applies
// (src/app/gestionale/uploadItems.ts), so files and SOAP uploads obey the same rules. What a file
// may leave out comes from the configuration, as for the other channels: a transfer without
// beneficiary credits the ente, without IBAN the service's (else the ente's) IBAN, without taxonomy
// the service's category; an option without transfers is one transfer of its whole amount.
// A partial update (PiemontePay AGPD `M`, flat-file-formats.md §2) is merged onto the stored
// position, then applied whole; its debtor may only identify the debtor of an anonymous position.
//
// Fields the position model does not hold yet are not stored: reference_year, notes, validity_to,
// change_reason of `M` rows, and the accertamento (acc_year / acc_number) of transfers.

import { domainError } from '../../domain/errors.ts';
import { isEditable } from '../../domain/positionState.ts';
import {
  ANONYMOUS_DEBTOR,
  type DebtorDraft,
  type PaymentOptionDraft,
  type TransferDraft,
} from '../../domain/position.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Service } from '../../db/repositories/services.ts';
import type { StoredDebtor, StoredPosition, StoredTransfer } from '../../db/repositories/positions.ts';
import type { MetadataEntry } from '../../db/repositories/positionExtras.ts';
import type { PositionInput, UploadItemInput } from '../../app/gestionale/uploadItems.ts';
import type {
  CancelRecord,
  ImportDebtor,
  ImportOption,
  ImportPosition,
  ImportPositionPatch,
  ImportTransfer,
  MetadataPair,
  PatchRecord,
  PositionRecord,
} from '../formats/types.ts';

/** pagoPA texts are stText140 (the reader warned with W_TRUNCATED when it is longer). */
export const PAGOPA_TEXT_MAX = 140;

/** What a record is applied with: its ente and the service it belongs to. */
export interface RecordScope {
  ente: Ente;
  service: Service;
}

/** The first `max` UTF-16 units of a text, never splitting a character. */
export function cutText(text: string, max = PAGOPA_TEXT_MAX): string {
  if (text.length <= max) return text;
  let cut = '';
  for (const char of text) {
    if (cut.length + char.length > max) break;
    cut += char;
  }
  return cut;
}

function defaultIban(scope: RecordScope): string | null {
  return scope.service.iban ?? scope.ente.iban ?? null;
}

function transferDraft(transfer: ImportTransfer, scope: RecordScope, field: string): TransferDraft {
  const own = !transfer.enteFiscalCode || transfer.enteFiscalCode === scope.ente.fiscalCode;
  const iban = transfer.iban ?? (own ? defaultIban(scope) : null);
  if (!iban) {
    const whose = own ? `service ${scope.service.code} has none configured` : 'it credits another ente';
    throw domainError('INVALID_TRANSFER', `the transfer needs an IBAN: ${whose}`, { field: `${field}.iban` });
  }
  return {
    enteFiscalCode: transfer.enteFiscalCode,
    amountCents: transfer.amountCents,
    iban,
    category: transfer.category ?? scope.service.category,
    remittanceInformation: transfer.remittanceInformation,
  };
}

function transfersOf(option: ImportOption, scope: RecordScope, path: string): TransferDraft[] {
  if (option.transfers.length === 0) {
    return [transferDraft({ amountCents: option.amountCents }, scope, `${path}.transfers[0]`)];
  }
  // Components that name no IBAN (PiemontePay's componenti importo) default to the same account;
  // pagoPA takes one transfer per account of an ente, so those are added into one transfer.
  const drafts: TransferDraft[] = [];
  const defaulted = new Map<string, TransferDraft>();
  option.transfers.forEach((t, k) => {
    const draft = transferDraft(t, scope, `${path}.transfers[${k}]`);
    if (t.iban) {
      drafts.push(draft);
      return;
    }
    const account = `${draft.enteFiscalCode ?? scope.ente.fiscalCode}|${draft.iban}`;
    const earlier = defaulted.get(account);
    if (earlier) {
      earlier.amountCents = Number(earlier.amountCents) + Number(draft.amountCents);
      return;
    }
    defaulted.set(account, draft);
    drafts.push(draft);
  });
  return drafts;
}

function optionDraft(option: ImportOption, index: number, scope: RecordScope): PaymentOptionDraft {
  const path = `options[${index}]`;
  return {
    installment: option.installment,
    amountCents: option.amountCents,
    // An absent due date is refused by the domain (pagoPA requires one): E_DUE_DATE.
    dueDate: option.dueDate ?? '',
    description: option.label,
    transfers: transfersOf(option, scope, path),
  };
}

function metadataOf(pairs: readonly MetadataPair[]): MetadataEntry[] {
  return pairs.map((pair) => ({ key: pair.key, value: pair.value }));
}

function positionInput(positionId: string, position: ImportPosition, scope: RecordScope): PositionInput {
  return {
    draft: {
      positionId,
      description: cutText(position.description),
      debtor: position.debtor,
      validityDate: position.validityFrom,
      options: position.options.map((option, i) => optionDraft(option, i, scope)),
    },
    iuvs: position.options.map((option) => option.iuv ?? null),
    metadata: metadataOf(position.metadata),
  };
}

/** The upload item of a full INSERT / UPDATE record. Throws a DomainError (the record is KO). */
export function itemOfPosition(record: PositionRecord, scope: RecordScope): UploadItemInput {
  return { action: record.action, position: positionInput(record.positionId, record.position, scope) };
}

export function itemOfCancel(record: CancelRecord): UploadItemInput {
  return { action: 'CANCEL', cancellation: { positionId: record.positionId, reason: record.reason } };
}

// ---------------------------------------------------------------------------------------------
// Partial updates
// ---------------------------------------------------------------------------------------------

function debtorDraftOf(debtor: StoredDebtor | null): DebtorDraft | undefined {
  if (!debtor) return undefined;
  return {
    type: debtor.type,
    fiscalCode: debtor.fiscalCode,
    fullName: debtor.fullName,
    email: debtor.email ?? undefined,
    streetName: debtor.streetName ?? undefined,
    civicNumber: debtor.civicNumber ?? undefined,
    postalCode: debtor.postalCode ?? undefined,
    city: debtor.city ?? undefined,
    stateProvinceRegion: debtor.stateProvinceRegion ?? undefined,
    country: debtor.country ?? undefined,
  };
}

function storedTransferDraft(transfer: StoredTransfer): TransferDraft {
  return {
    enteFiscalCode: transfer.enteFiscalCode,
    amountCents: transfer.amountCents,
    iban: transfer.iban,
    category: transfer.category,
    remittanceInformation: transfer.remittanceInformation,
  };
}

type OptionPatch = NonNullable<ImportPositionPatch['option']>;

/**
 * The stored option with the patch's changes. A new amount without new transfers moves a single
 * transfer along; with several transfers they must be given (else the sums differ: E_AMOUNT).
 */
function patchedOption(
  option: StoredPosition['options'][number],
  patch: OptionPatch | undefined,
  scope: RecordScope,
): PaymentOptionDraft {
  const amountCents = patch?.amountCents ?? option.amountCents;
  let transfers = option.transfers.map(storedTransferDraft);
  if (patch?.transfers && patch.transfers.length > 0) {
    transfers = patch.transfers.map((t, k) => transferDraft(t, scope, `options[0].transfers[${k}]`));
  } else if (transfers.length === 1 && transfers[0] && amountCents !== option.amountCents) {
    transfers = [{ ...transfers[0], amountCents }];
  }
  return {
    installment: option.installment,
    amountCents,
    dueDate: patch?.dueDate ?? option.dueDate,
    description: option.description,
    transfers,
  };
}

/**
 * The field a patch's debtor is refused under when the position's debtor is known: PiemontePay
 * answers 218 ("the original debtor is not ANONIMO"), and its compatibility outcome maps it so.
 */
export const ORIGINAL_DEBTOR_FIELD = 'original_debtor';

/**
 * The debtor after a patch. PiemontePay sets a debtor only on an anonymous position (§2, 218): the
 * one a fine was issued to, identified later. The same fiscal code again is a retry (or a new
 * address of the same debtor) and is accepted.
 */
function patchedDebtor(
  given: ImportDebtor | undefined,
  stored: StoredDebtor | null,
): DebtorDraft | undefined {
  if (!given) return debtorDraftOf(stored);
  const anonymous = !stored || stored.fiscalCode === ANONYMOUS_DEBTOR;
  if (!anonymous && stored.fiscalCode !== given.fiscalCode) {
    throw domainError(
      'INVALID_POSITION',
      'the debtor can be set only on an anonymous (ANONIMO) position; send a full update to change it (218)',
      { field: ORIGINAL_DEBTOR_FIELD },
    );
  }
  return given;
}

/**
 * The stored metadata with the patch's. PiemontePay gives the riferimenti pagamento as one block,
 * so a patch that has them replaces every stored `rif.` pair; other keys are kept.
 */
function patchedMetadata(
  patch: readonly MetadataPair[] | undefined,
  stored: readonly MetadataEntry[],
): MetadataEntry[] {
  if (!patch) return [...stored];
  const replaced = new Set(patch.map((pair) => pair.key));
  const replacesReferences = patch.some((pair) => pair.key.startsWith('rif.'));
  const kept = stored.filter(
    (entry) => !replaced.has(entry.key) && !(replacesReferences && entry.key.startsWith('rif.')),
  );
  return [...kept, ...metadataOf(patch)];
}

/** A partial update (PatchRecord) merged onto the stored position: the full UPDATE to apply. */
export function itemOfPatch(
  record: PatchRecord,
  stored: StoredPosition,
  storedMetadata: readonly MetadataEntry[],
  scope: RecordScope,
): UploadItemInput {
  const { patch } = record;
  // Before the merge, so a cancelled or paid position answers E_CANCELLED / E_PAID, not a field rule.
  if (!isEditable(stored.status)) {
    throw domainError('INVALID_STATE_TRANSITION', `a ${stored.status} position cannot be updated`, {
      from: stored.status,
    });
  }
  const options = [...stored.options].sort((a, b) => a.installment - b.installment);
  // An AGPD row changes the single payment; a plan's installments are changed by a full update.
  if (patch.option && !options.some((option) => option.installment === 0)) {
    throw domainError(
      'INVALID_INPUT',
      `position ${stored.positionId} is a plan of installments: change its amounts and due dates with a full update`,
      { field: 'option' },
    );
  }
  return {
    action: 'UPDATE',
    position: {
      draft: {
        positionId: stored.positionId,
        description: patch.description !== undefined ? cutText(patch.description) : stored.description,
        debtor: patchedDebtor(patch.debtor, stored.debtor),
        validityDate: patch.validityFrom ?? stored.validityDate ?? undefined,
        options: options.map((option) =>
          patchedOption(option, option.installment === 0 ? patch.option : undefined, scope),
        ),
      },
      iuvs: options.map((option) => option.iuv),
      metadata: patchedMetadata(patch.metadata, storedMetadata),
    },
  };
}
