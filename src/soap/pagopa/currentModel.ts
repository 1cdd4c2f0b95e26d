// Edge mapping shared by the current-model (paForNode) operation modules: node-soap's parsed request
// → use-case input, and use-case results → answer objects in schema element order (node-soap writes
// keys in the order given). Amounts are formatted with formatAmount; no business rule lives here.

import { parseAmountCents, formatAmount, parseDecimalAmount } from '../../domain/money.ts';
import type { NodeCaller } from '../../app/pagopa/identity.ts';
import type { NoticeDebtor, PayableNotice, PayableTransfer } from '../../app/pagopa/payments.ts';
import type { IncomingReceipt } from '../../app/pagopa/receipts.ts';
import type { ReceiptSource } from '../../db/repositories/receipts.ts';
import { XmlElement as XmlElementClass, type XmlElement } from 'libxml2-wasm';
import { parseUntrusted } from '../../xml/schema.ts';
import { childrenNamed, readEnvelope } from '../envelope.ts';
import type {
  ctPaymentData,
  ctPaymentDataV2,
  ctPaymentOptionsDescriptionList,
  ctQrCode,
  ctReceipt,
  ctReceiptV2,
  ctSubject,
  ctTransferPA,
  ctTransferPAV2,
} from '../../xml/generated/pagopa/current/paForNode.ts';

/** node-soap gives a repeated element as an array, a single one as an object. */
export function asArray<T>(value: T | T[] | undefined | null): T[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

export function callerOf(request: { idPA: string; idBrokerPA: string; idStation: string }): NodeCaller {
  return { enteFiscalCode: request.idPA, brokerFiscalCode: request.idBrokerPA, stationId: request.idStation };
}

export function amountText(cents: number): string {
  return formatAmount(parseAmountCents(cents));
}

// The wire patterns of ctSubject's optional fields (common-types stEmail, stCountryOrProvince): data
// stored under the looser domain rules is left out rather than sent in a form the node would reject.
const WIRE_EMAIL = /^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$/;
const WIRE_COUNTRY = /^[A-Z]{2}$/;

export function subjectOf(debtor: NoticeDebtor): ctSubject {
  const subject: ctSubject = {
    uniqueIdentifier: {
      entityUniqueIdentifierType: debtor.type,
      entityUniqueIdentifierValue: debtor.fiscalCode,
    },
    fullName: debtor.fullName,
  };
  if (debtor.streetName) subject.streetName = debtor.streetName;
  if (debtor.civicNumber) subject.civicNumber = debtor.civicNumber;
  if (debtor.postalCode) subject.postalCode = debtor.postalCode;
  if (debtor.city) subject.city = debtor.city;
  if (debtor.stateProvinceRegion) subject.stateProvinceRegion = debtor.stateProvinceRegion;
  if (debtor.country && WIRE_COUNTRY.test(debtor.country)) subject.country = debtor.country;
  if (debtor.email && debtor.email.length <= 256 && WIRE_EMAIL.test(debtor.email))
    subject['e-mail'] = debtor.email;
  return subject;
}

/** pagoPA's texts are stText140 at most; an ente's name is not bounded by our own schema. */
function text140(value: string): string {
  return value.length <= 140 ? value : value.slice(0, 140);
}

export function qrCodeOf(notice: PayableNotice): ctQrCode {
  return { fiscalCode: notice.ente.fiscalCode, noticeNumber: notice.noticeNumber };
}

/** paVerifyPaymentNotice / paDemandPaymentNotice: exactly one option, the amount due today. */
export function paymentListOf(notice: PayableNotice): ctPaymentOptionsDescriptionList {
  return {
    paymentOptionDescription: {
      amount: amountText(notice.amountCents),
      options: 'EQ',
      dueDate: notice.dueDate,
      detailDescription: text140(notice.description),
      allCCP: notice.allPostal ? 'true' : 'false',
    },
  };
}

/** The tail shared by the verify and demand answers (noticeSummary in our schema). */
export function noticeSummaryOf(notice: PayableNotice) {
  return {
    paymentList: paymentListOf(notice),
    paymentDescription: text140(notice.position.description),
    fiscalCodePA: notice.ente.fiscalCode,
    companyName: text140(notice.ente.name),
  };
}

function transferV1(t: PayableTransfer): ctTransferPA {
  return {
    idTransfer: String(t.index) as ctTransferPA['idTransfer'],
    transferAmount: amountText(t.amountCents),
    fiscalCodePA: t.enteFiscalCode,
    IBAN: t.iban,
    remittanceInformation: t.remittanceInformation,
    transferCategory: t.taxonomyCode,
  };
}

function transferV2(t: PayableTransfer, positionId: string): ctTransferPAV2 {
  return {
    idTransfer: String(t.index) as ctTransferPAV2['idTransfer'],
    transferAmount: amountText(t.amountCents),
    fiscalCodePA: t.enteFiscalCode,
    ...(t.enteName ? { companyName: text140(t.enteName) } : {}),
    IBAN: t.iban,
    remittanceInformation: t.remittanceInformation,
    transferCategory: t.taxonomyCode,
    // Echoed by the node in the receipt's transfer: lets an operator trace a transfer to its position.
    metadata: { mapEntry: [{ key: 'positionId', value: text140(positionId) }] },
  };
}

function dataHead(notice: PayableNotice) {
  return {
    creditorReferenceId: notice.iuv,
    paymentAmount: amountText(notice.amountCents),
    dueDate: notice.dueDate,
    description: text140(notice.description),
    companyName: text140(notice.ente.name),
  };
}

export function paymentDataV1(notice: PayableNotice): ctPaymentData {
  return {
    ...dataHead(notice),
    debtor: subjectOf(notice.debtor),
    transferList: { transfer: notice.transfers.map(transferV1) },
  };
}

export function paymentDataV2(notice: PayableNotice): ctPaymentDataV2 {
  return {
    ...dataHead(notice),
    debtor: subjectOf(notice.debtor),
    transferList: { transfer: notice.transfers.map((t) => transferV2(t, notice.position.positionId)) },
  };
}

/** Prefixes the subtree uses on elements and attributes (the unprefixed default never needs help). */
function prefixesUsed(root: XmlElement): Set<string> {
  const used = new Set<string>();
  const stack: XmlElement[] = [root];
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (node.prefix) used.add(node.prefix);
    for (const attr of node.attrs) if (attr.prefix && attr.prefix !== 'xml') used.add(attr.prefix);
    for (let child = node.firstChild; child; child = child.next) {
      if (child instanceof XmlElementClass) stack.push(child);
    }
  }
  return used;
}

/**
 * The receipt element as received, from the raw request (the guard keeps it): serialised unformatted
 * and made self-contained by declaring on it the namespaces it inherited from the envelope.
 */
export function receiptDocument(requestXml: string): string {
  const doc = parseUntrusted(requestXml);
  try {
    const { payload } = readEnvelope(doc);
    const [receipt] = childrenNamed(payload, null, 'receipt');
    if (!receipt) throw new Error('the request has no receipt element');
    const declared = receipt.nsDeclarations;
    const inScope = receipt.namespaces;
    for (const prefix of prefixesUsed(receipt)) {
      const uri = inScope[prefix];
      if (prefix in declared || uri === undefined) continue;
      receipt.addNsDeclaration(uri, prefix);
    }
    return receipt.toString({ format: false });
  } finally {
    doc.dispose();
  }
}

type AnyReceipt = ctReceipt | ctReceiptV2;

/** paSendRT / paSendRTV2 request → the receipt use case's input. */
export function incomingReceiptOf(
  request: { idPA: string; idBrokerPA: string; idStation: string; receipt: AnyReceipt },
  source: ReceiptSource,
  requestXml: string,
): IncomingReceipt {
  const r = request.receipt;
  return {
    source,
    caller: callerOf(request),
    creditorFiscalCode: r.fiscalCode,
    iuv: r.creditorReferenceId,
    receiptId: r.receiptId,
    noticeNumber: r.noticeNumber,
    outcome: r.outcome,
    amountCents: parseDecimalAmount(String(r.paymentAmount)),
    paymentDateTime: r.paymentDateTime === undefined ? null : String(r.paymentDateTime),
    pspId: r.idPSP,
    document: receiptDocument(requestXml),
  };
}
