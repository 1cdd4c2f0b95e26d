// The documents reconciliation works on, as plain data: a reporting flow (FlussoRiversamento,
// pagopa-facts §7) and a treasury bank statement (camt.053 or the CSV cash journal, §8.4). Readers
// produce these shapes after validation; the emulator's builders consume them. Money is integer
// cents; dates are YYYY-MM-DD; date-times are written as the document carries them.

/** codiceEsitoSingoloPagamento: 0 paid, 3 revoked, 4 paid in stand-in, 8 stand-in without receipt, 9 paid without RPT. */
export type FlowOutcomeCode = '0' | '3' | '4' | '8' | '9';

export interface FlowPayment {
  iuv: string;
  iur: string;
  /** indiceDatiSingoloPagamento: RT payment index (legacy) or idTransfer (current model); null when absent. */
  transferIndex: number | null;
  /** singoloImportoPagato in cents; negative for outcome 3. */
  amountCents: number;
  outcomeCode: FlowOutcomeCode;
  /** dataEsitoSingoloPagamento, YYYY-MM-DD. */
  outcomeDate: string;
}

export interface FlowDocument {
  /** versioneOggetto. */
  version: '1.0' | '1.1';
  /** identificativoFlusso. */
  flowId: string;
  /** dataOraFlusso as written (xs:dateTime); a revision of the same flowId has a later one. */
  flowDateTime: string;
  /** identificativoUnivocoRegolamento: the TRN of the SCT that settles the flow. */
  trn: string;
  /** dataRegolamento, YYYY-MM-DD. */
  settlementDate: string;
  /** istitutoMittente: the PSP (tipoIdentificativoUnivoco G|A|B and its code) and its name. */
  sender: { idType: 'G' | 'A' | 'B'; id: string; name: string | null };
  /** codiceBicBancaDiRiversamento. */
  bic: string | null;
  /** istitutoRicevente: the EC (idType G, its fiscal code) and its name. */
  receiver: { idType: 'G' | 'A' | 'B'; id: string; name: string | null };
  /** numeroTotalePagamenti. */
  paymentCount: number;
  /** importoTotalePagamenti in cents. */
  totalAmountCents: number;
  payments: FlowPayment[];
}

export type StatementFormat = 'camt053' | 'csv';

/** One booked entry of the treasury account. Only credits (CRDT) can settle pagoPA flows. */
export interface BankEntry {
  /** Unique within the statement: camt.053 AcctSvcrRef (else NtryRef), or the CSV row's reference. */
  entryRef: string;
  direction: 'CRDT' | 'DBIT';
  /** Positive, in cents. */
  amountCents: number;
  bookingDate: string;
  valueDate: string;
  /** AT-43, the settlement's TRN (camt.053 Refs/TxId or AcctSvcrRef of the transaction); null when absent. */
  trn: string | null;
  /** AT-41 EndToEndId; null when absent or NOTPROVIDED. */
  endToEndId: string | null;
  /** AT-02 debtor (the PSP): "<PSP name> Servizio pagoPA". */
  debtorName: string | null;
  /** AT-05 unstructured remittance text, e.g. /PUR/LGPE-RIVERSAMENTO/URI/<identificativoFlusso>. */
  remittanceInformation: string | null;
}

export interface BankStatement {
  format: StatementFormat;
  /** camt.053 Stmt/Id, or the journal's statement id. */
  statementId: string;
  /** When the statement was produced (xs:dateTime as written). */
  createdAt: string;
  /** The treasury account (AT-20 IBAN of the EC). */
  accountIban: string;
  /** The account owner's fiscal code (AT-24) when the statement states it. */
  ownerFiscalCode: string | null;
  entries: BankEntry[];
}
