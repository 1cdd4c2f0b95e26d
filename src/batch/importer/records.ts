// From an ImportRecord (any drop-folder format) to the item the gestionale upload path applies
// (src/app/gestionale/uploadItems.ts), so files and SOAP uploads obey the same rules. What a file
// may leave out comes from the configuration, as for the other channels: a transfer without
// beneficiary credits the ente, without IBAN the service's (else the ente's) IBAN, without taxonomy
// the service's category; an option without transfers is one transfer of its whole amount.
// A partial update (PiemontePay AGPD `M`) is merged onto the stored position, then applied whole.
//
// Fields the position model does not hold yet are not stored: reference_year, notes, validity_to,
// change_reason of `M` rows, and the accertamento (acc_year / acc_number) of transfers.

import { domainError } from '../../domain/errors.ts';
import type { DebtorDraft, PaymentOptionDraft, TransferDraft } from '../../domain/position.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Service } from '../../db/repositories/services.ts';
import type { StoredDebtor, StoredPosition, StoredTransfer } from '../../db/repositories/positions.ts';
import type { MetadataEntry } from '../../db/repositories/positionExtras.ts';
import type { PositionInput, UploadItemInput } from '../../app/gestionale/uploadItems.ts';
import type {
  CancelRecord,
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
  return option.transfers.map((t, k) => transferDraft(t, scope, `${path}.transfers[${k}]`));
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

/** A partial update (PatchRecord) merged onto the stored position: the full UPDATE to apply. */
export function itemOfPatch(
  record: PatchRecord,
  stored: StoredPosition,
  storedMetadata: readonly MetadataEntry[],
  scope: RecordScope,
): UploadItemInput {
  const { patch } = record;
  const options = [...stored.options].sort((a, b) => a.installment - b.installment);
  return {
    action: 'UPDATE',
    position: {
      draft: {
        positionId: stored.positionId,
        description: patch.description !== undefined ? cutText(patch.description) : stored.description,
        debtor: patch.debtor ?? debtorDraftOf(stored.debtor),
        validityDate: patch.validityFrom ?? stored.validityDate ?? undefined,
        options: options.map((option) =>
          patchedOption(option, option.installment === 0 ? patch.option : undefined, scope),
        ),
      },
      iuvs: options.map((option) => option.iuv),
      metadata: patch.metadata ? metadataOf(patch.metadata) : [...storedMetadata],
    },
  };
}
