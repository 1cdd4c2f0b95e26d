// The RPT the connector sends for one EC of a notice (pagopa-facts §3, §6): the notice as described
// to the node (amounts due, transfers, debtor) narrowed to that EC's own transfers, written with
// buildRpt. Shared by model 1 (nodoInviaRPT / nodoInviaCarrelloRPT) and model 3 (after paaAttivaRPT).

import { randomUUID } from 'node:crypto';
import { italianDate } from '../../domain/payability.ts';
import { buildRpt, type RptParty, type TipoVersamento } from '../../pagopa/rpt.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Station } from '../../db/repositories/stations.ts';
import type { NoticeDebtor, PayableNotice, PayableTransfer } from './payments.ts';
import { romeDateTime } from '../../pagopa/time.ts';

// The RPT's patterns for the payer's optional fields (rpt-rt.xsd TwoLetterCode, EmailAddress): data
// stored under looser rules is left out rather than sent in a form the node would refuse.
const RPT_COUNTRY = /^[A-Z]{2}$/;
const RPT_EMAIL = /^[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$/;

export interface RptDraft {
  /** The EC the RPT belongs to (its transfers only) and the station that sends it. */
  ente: Ente;
  station: Station;
  notice: PayableNotice;
  ccp: string;
  tipoVersamento: TipoVersamento;
  now: Date;
}

export interface RptDocument {
  xml: string;
  amountCents: number;
  transfers: PayableTransfer[];
}

export function payerOf(debtor: NoticeDebtor): RptParty {
  return {
    type: debtor.type,
    fiscalCode: debtor.fiscalCode,
    name: debtor.fullName,
    email: debtor.email && debtor.email.length <= 256 && RPT_EMAIL.test(debtor.email) ? debtor.email : null,
    streetName: debtor.streetName,
    civicNumber: debtor.civicNumber,
    postalCode: debtor.postalCode,
    city: debtor.city,
    province: debtor.stateProvinceRegion,
    country: debtor.country && RPT_COUNTRY.test(debtor.country) ? debtor.country : null,
  };
}

/** A fresh identificativoMessaggioRichiesta (unique within its day, at most 35 characters). */
export function newMessageId(): string {
  return randomUUID().replace(/-/g, '');
}

/** The transfers of a notice that credit one EC: what that EC's RPT may carry. */
export function transfersOf(notice: PayableNotice, enteFiscalCode: string): PayableTransfer[] {
  return notice.transfers.filter((t) => t.enteFiscalCode === enteFiscalCode);
}

export function rptDocument(draft: RptDraft): RptDocument {
  const transfers = transfersOf(draft.notice, draft.ente.fiscalCode);
  const xml = buildRpt({
    enteFiscalCode: draft.ente.fiscalCode,
    enteName: draft.ente.name,
    stationId: draft.station.stationId,
    messageId: newMessageId(),
    dateTime: romeDateTime(draft.now),
    paymentDate: italianDate(draft.now),
    iuv: draft.notice.iuv,
    ccp: draft.ccp,
    tipoVersamento: draft.tipoVersamento,
    payer: payerOf(draft.notice.debtor),
    transfers: transfers.map((t) => ({
      amountCents: t.amountCents,
      iban: t.iban,
      remittance: t.remittanceInformation,
      category: t.category,
    })),
  });
  return { xml, amountCents: transfers.reduce((sum, t) => sum + t.amountCents, 0), transfers };
}
