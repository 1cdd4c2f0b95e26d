// Edge mapping shared by the gestionale operation modules: node-soap's parsed request (repeated
// elements as an object when single, numbers and dates as text) → use-case input, and use-case
// results → answer objects in schema element order (node-soap writes keys in the order given).
// No business rule lives here.

import type { DebtorDraft } from '../../domain/position.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Service } from '../../db/repositories/services.ts';
import type { StoredDebtor } from '../../db/repositories/positions.ts';
import type { GestionaleCaller, IssuedNotice } from '../../app/gestionale/common.ts';
import type {
  ItemError,
  ItemResult,
  PositionInput,
  UploadItemInput,
} from '../../app/gestionale/uploadItems.ts';
import type { PaymentView } from '../../app/gestionale/receipt.ts';
import type { PageInfo } from '../../app/gestionale/listPayments.ts';
import type { ReceiptParty } from '../../pagopa/storedReceipt.ts';
import type * as pt from '../../xml/generated/gestionale/ppay-types.ts';
import type { SoapContext } from '../guard.ts';
import { gestionaleFaultForCode, gestionaleFaultObject } from '../faults/gestionale.ts';

/** A request the binding has authenticated and scoped: the ente (and service) are the caller's. */
export interface GestionaleCall {
  ctx: SoapContext;
  caller: GestionaleCaller;
  ente: Ente;
  /** Set for operations whose request names a serviceCode. */
  service: Service | null;
}

export type GestionaleHandler = (args: Record<string, unknown>, call: GestionaleCall) => Promise<object>;

/** node-soap gives a repeated element as an array, a single one as an object. */
export function asArray<T>(value: T | T[] | undefined | null): T[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** The service of an operation whose schema requires serviceCode (the binding resolved it). */
export function serviceOf(call: GestionaleCall): Service {
  if (!call.service) throw new Error(`${call.ctx.operation.name}: no service in the scoped request`);
  return call.service;
}

/** The optional paging elements of a list request (pt:stSequence, pt:stPageSize) as numbers. */
export function pagingOf(request: { pageNumber?: unknown; pageSize?: unknown }): {
  pageNumber: number | undefined;
  pageSize: number | undefined;
} {
  return {
    pageNumber: request.pageNumber === undefined ? undefined : Number(request.pageNumber),
    pageSize: request.pageSize === undefined ? undefined : Number(request.pageSize),
  };
}

/** The pt:ctPageInfo elements of a page, in schema order. */
export function pageInfoObject(pageInfo: PageInfo): Record<string, string> {
  return {
    pageNumber: String(pageInfo.pageNumber),
    pageSize: String(pageInfo.pageSize),
    totalItems: String(pageInfo.totalItems),
    totalPages: String(pageInfo.totalPages),
  };
}

export function optionalText(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}

export function debtorDraftOf(debtor: pt.ctDebtor): DebtorDraft {
  return {
    type: debtor.type,
    fiscalCode: debtor.fiscalCode,
    fullName: debtor.fullName,
    email: debtor.email,
    streetName: debtor.streetName,
    civicNumber: debtor.civicNumber,
    postalCode: debtor.postalCode,
    city: debtor.city,
    stateProvinceRegion: debtor.stateProvinceRegion,
    country: debtor.country,
  };
}

export function positionInputOf(position: pt.ctDebtPosition): PositionInput {
  const options = asArray(position.option);
  return {
    draft: {
      positionId: position.positionId,
      description: position.description,
      debtor: position.debtor ? debtorDraftOf(position.debtor) : undefined,
      validityDate: optionalText(position.validityDate),
      options: options.map((o) => ({
        installment: Number(o.installment),
        amountCents: o.amountCents,
        dueDate: String(o.dueDate),
        description: o.description,
        transfers: asArray(o.transfer).map((t) => ({
          enteFiscalCode: t.enteFiscalCode,
          amountCents: t.amountCents,
          iban: t.iban,
          category: t.category,
          remittanceInformation: t.remittanceInformation,
        })),
      })),
    },
    iuvs: options.map((o) => o.iuv ?? null),
    metadata: asArray(position.metadata?.entry).map((e) => ({ key: e.key, value: e.value })),
  };
}

export function uploadItemOf(item: pt.ctUploadItem): UploadItemInput {
  return {
    action: item.action as UploadItemInput['action'],
    position: item.position ? positionInputOf(item.position) : undefined,
    cancellation: item.cancellation
      ? { positionId: item.cancellation.positionId, reason: item.cancellation.reason }
      : undefined,
  };
}

export function noticeObject(notice: IssuedNotice): pt.ctNotice {
  return { iuv: notice.iuv, noticeNumber: notice.noticeNumber };
}

export function faultObjectOf(error: ItemError) {
  return gestionaleFaultObject(gestionaleFaultForCode(error.code, error.message, error.field));
}

/** pt:ctUploadItemOutcome: notices on OK, the fault on KO. */
export function itemOutcomeObject(item: ItemResult) {
  const answer: Record<string, unknown> = {
    sequence: String(item.sequence),
    positionId: item.positionId,
    action: item.action,
    outcome: item.outcome,
  };
  if (item.notices.length) {
    answer.notice = item.notices.map((n) => ({
      installment: String(n.installment),
      iuv: n.iuv,
      noticeNumber: n.noticeNumber,
      amountCents: String(n.amountCents),
      dueDate: n.dueDate,
    }));
  }
  if (item.outcome === 'KO' && item.error) answer.fault = faultObjectOf(item.error);
  return answer;
}

export function summaryObject(summary: { itemCount: number; okCount: number; koCount: number }) {
  return {
    itemCount: String(summary.itemCount),
    okCount: String(summary.okCount),
    koCount: String(summary.koCount),
  };
}

// The answer schema's patterns for e-mail and country are stricter than the domain's checks: data
// stored under looser rules is left out rather than answered in a form that breaks the contract.
const XSD_EMAIL = /^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$/;
const XSD_COUNTRY = /^[A-Z]{2}$/;

/** pt:ctDebtor in schema order. */
export function debtorObject(debtor: StoredDebtor): pt.ctDebtor {
  const answer: pt.ctDebtor = {
    type: debtor.type,
    fiscalCode: debtor.fiscalCode,
    fullName: debtor.fullName.slice(0, 70),
  };
  if (debtor.streetName) answer.streetName = debtor.streetName.slice(0, 70);
  if (debtor.civicNumber) answer.civicNumber = debtor.civicNumber.slice(0, 16);
  if (debtor.postalCode) answer.postalCode = debtor.postalCode.slice(0, 16);
  if (debtor.city) answer.city = debtor.city.slice(0, 35);
  if (debtor.stateProvinceRegion) answer.stateProvinceRegion = debtor.stateProvinceRegion.slice(0, 35);
  if (debtor.country && XSD_COUNTRY.test(debtor.country)) answer.country = debtor.country;
  if (debtor.email && debtor.email.length <= 256 && XSD_EMAIL.test(debtor.email)) answer.email = debtor.email;
  return answer;
}

// pt:stDebtorFiscalCode and pt:stText35: a receipt's parties and references come from pagoPA, whose
// rules are looser than ours; what does not fit the answer schema is left out.
const XSD_DEBTOR_FISCAL_CODE = /^([A-Z0-9]{11,16}|ANONIMO)$/;

/** A party read from a receipt as pt:ctDebtor, or undefined when it cannot be stated validly. */
export function partyObject(party: ReceiptParty | null): pt.ctDebtor | undefined {
  if (!party || (party.type !== 'F' && party.type !== 'G')) return undefined;
  const fiscalCode = party.fiscalCode?.toUpperCase() ?? '';
  if (!XSD_DEBTOR_FISCAL_CODE.test(fiscalCode) || !party.fullName) return undefined;
  return debtorObject({
    type: party.type,
    fiscalCode,
    fullName: party.fullName,
    email: party.email,
    streetName: party.streetName,
    civicNumber: party.civicNumber,
    postalCode: party.postalCode,
    city: party.city,
    stateProvinceRegion: party.stateProvinceRegion,
    country: party.country,
  });
}

/** pt:ctPayment in schema order. */
export function paymentObject(payment: PaymentView): Record<string, unknown> {
  const answer: Record<string, unknown> = {
    receiptId: payment.receiptId,
    serviceCode: payment.serviceCode,
    positionId: payment.positionId,
    installment: String(payment.installment),
    iuv: payment.iuv,
    noticeNumber: payment.noticeNumber,
    amountCents: String(payment.amountCents),
  };
  if (payment.feeCents !== null) answer.feeCents = String(payment.feeCents);
  answer.paymentDateTime = payment.paymentDateTime;
  answer.pspId = payment.pspId.slice(0, 35);
  answer.pspName = payment.pspName.slice(0, 70);
  if (payment.paymentMethod) answer.paymentMethod = payment.paymentMethod.slice(0, 35);
  const payer = partyObject(payment.payer);
  if (payer) answer.payer = payer;
  return answer;
}
