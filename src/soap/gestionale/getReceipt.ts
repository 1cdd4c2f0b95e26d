// getReceipt: maps the reference (receiptId or noticeNumber) to the use case and the stored receipt,
// parsed fields and the document base64-encoded, to pt:ctReceipt in schema order.

import type { Store } from '../../db/store.ts';
import { getReceipt as readReceipt, type ReceiptView } from '../../app/gestionale/receipt.ts';
import type { ReceiptTransferLine } from '../../pagopa/storedReceipt.ts';
import type { GetReceiptRequest } from '../../xml/generated/gestionale/gestionale.ts';
import { partyObject, type GestionaleHandler } from './common.ts';

// pt:stEnteFiscalCode, pt:stIban, pt:stTaxonomy: a transfer field that does not fit is left out.
const ENTE_FISCAL_CODE = /^[0-9]{11}$/;
const IBAN = /^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/;
const TAXONOMY = /^[0129]\/\S{3,138}$/;
const TAXONOMY_CODE = /^\S{3,136}$/;

/** The receipt's category as pt:stTaxonomy: a bare pagoPA taxonomy code is written `9/<code>/`. */
function categoryOf(category: string | null): string | undefined {
  if (!category) return undefined;
  if (TAXONOMY.test(category)) return category;
  return TAXONOMY_CODE.test(category) ? `9/${category}/` : undefined;
}

function transferObject(transfer: ReceiptTransferLine): Record<string, unknown> | null {
  if (!transfer.enteFiscalCode || !ENTE_FISCAL_CODE.test(transfer.enteFiscalCode)) return null;
  if (transfer.amountCents === null || transfer.index < 1 || transfer.index > 5) return null;
  const answer: Record<string, unknown> = {
    index: String(transfer.index),
    enteFiscalCode: transfer.enteFiscalCode,
    amountCents: String(transfer.amountCents),
  };
  if (transfer.iban && IBAN.test(transfer.iban)) answer.iban = transfer.iban;
  const category = categoryOf(transfer.category);
  if (category) answer.category = category;
  if (transfer.remittanceInformation)
    answer.remittanceInformation = transfer.remittanceInformation.slice(0, 140);
  if (transfer.iur) answer.iur = transfer.iur.slice(0, 35);
  return answer;
}

function receiptObject(r: ReceiptView): Record<string, unknown> {
  const answer: Record<string, unknown> = {
    receiptId: r.receiptId,
    iur: r.iur.slice(0, 35),
  };
  if (r.ccp) answer.ccp = r.ccp;
  answer.outcome = r.outcome;
  answer.enteFiscalCode = r.enteFiscalCode;
  answer.serviceCode = r.serviceCode;
  answer.positionId = r.positionId;
  answer.installment = String(r.installment);
  answer.iuv = r.iuv;
  if (r.noticeNumber) answer.noticeNumber = r.noticeNumber;
  answer.description = r.description.slice(0, 140);
  answer.amountCents = String(r.amountCents);
  if (r.feeCents !== null) answer.feeCents = String(r.feeCents);
  answer.paymentDateTime = r.paymentDateTime;
  answer.pspId = r.pspId.slice(0, 35);
  answer.pspName = r.pspName.slice(0, 70);
  if (r.paymentMethod) answer.paymentMethod = r.paymentMethod.slice(0, 35);
  const payer = partyObject(r.payer);
  if (payer) answer.payer = payer;
  if (r.pspFiscalCode) answer.pspFiscalCode = r.pspFiscalCode.slice(0, 70);
  if (r.channelId) answer.channelId = r.channelId.slice(0, 35);
  const debtor = partyObject(r.debtor);
  if (debtor) answer.debtor = debtor;
  const transfers = r.transfers.map(transferObject).filter((t) => t !== null);
  if (transfers.length) answer.transfer = transfers.slice(0, 5);
  answer.receivedAt = r.receivedAt;
  answer.format = r.format;
  answer.document = Buffer.from(r.document, 'utf8').toString('base64');
  return answer;
}

export function getReceipt(store: Store): GestionaleHandler {
  return async (args, call) => {
    const request = args as unknown as GetReceiptRequest;
    const receipt = await readReceipt(store, {
      ente: call.ente,
      caller: call.caller,
      receiptId: request.receiptId ?? null,
      noticeNumber: request.noticeNumber ?? null,
    });
    return { outcome: 'OK', receipt: receiptObject(receipt) };
  };
}
