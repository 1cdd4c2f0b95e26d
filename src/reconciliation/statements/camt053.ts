// The treasury statement in ISO 20022 camt.053.001.02 (pagopa-facts §8.4), validated by the
// project's schema xsd/flows/camt053.xsd: the emulator builds one per EC and day, the connector
// reads those and real ones of the same shape into a BankStatement. Amounts are integer cents.
//
// Where the TRN (SEPA AT-43) is read from: the transaction's Refs/TxId, else its Refs/AcctSvcrRef;
// the builder writes it in Refs/TxId. The entry's own AcctSvcrRef is the bank's booking reference:
// it becomes entryRef and is never taken for a TRN, so a credit without one stays without one.

import path from 'node:path';
import type { XmlElement } from 'libxml2-wasm';
import { domainError, type DomainError } from '../../domain/errors.ts';
import { formatAmount, parseDecimalAmount, type AmountCents } from '../../domain/money.ts';
import { document, el, leaf, type XmlChild, type XmlNode } from '../../xml/build.ts';
import { XSD_DIR } from '../../xml/paths.ts';
import { parseUntrusted, schemaFor, XmlRejected } from '../../xml/schema.ts';
import type { BankEntry, BankStatement } from '../model.ts';

export const CAMT053_NS = 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.02';
const CAMT053_SCHEMA = path.join(XSD_DIR, 'flows/camt053.xsd');
const NS = { c: CAMT053_NS };
const CURRENCY = 'EUR';
/** SEPA's placeholder for an EndToEndId the originator did not give. */
const NOT_PROVIDED = 'NOTPROVIDED';

// ---------------------------------------------------------------- building

function optional(name: string, ...children: XmlChild[]): XmlNode | null {
  return children.some((c) => c !== null && c !== undefined && c !== false)
    ? el(name, null, ...children)
    : null;
}

function date(name: string, value: string): XmlNode {
  return el(name, null, leaf('Dt', value));
}

/** ISO bank transaction code: a received (RCDT) or issued (ICDT) SEPA credit transfer (ESCT). */
function transactionCode(direction: BankEntry['direction']): XmlNode {
  const family = direction === 'CRDT' ? 'RCDT' : 'ICDT';
  return el(
    'BkTxCd',
    null,
    el('Domn', null, leaf('Cd', 'PMNT'), el('Fmly', null, leaf('Cd', family), leaf('SubFmlyCd', 'ESCT'))),
  );
}

function transactionDetails(entry: BankEntry): XmlNode | null {
  const details = optional(
    'TxDtls',
    optional('Refs', leaf('EndToEndId', entry.endToEndId), leaf('TxId', entry.trn)),
    optional('RltdPties', optional('Dbtr', leaf('Nm', entry.debtorName))),
    optional('RmtInf', leaf('Ustrd', entry.remittanceInformation)),
  );
  return details && el('NtryDtls', null, details);
}

function entryNode(entry: BankEntry): XmlNode {
  return el(
    'Ntry',
    null,
    el('Amt', { Ccy: CURRENCY }, formatAmount(entry.amountCents as AmountCents)),
    leaf('CdtDbtInd', entry.direction),
    leaf('Sts', 'BOOK'),
    date('BookgDt', entry.bookingDate),
    date('ValDt', entry.valueDate),
    leaf('AcctSvcrRef', entry.entryRef),
    transactionCode(entry.direction),
    transactionDetails(entry),
  );
}

function account(statement: BankStatement): XmlNode {
  const owner =
    statement.ownerFiscalCode === null
      ? null
      : el(
          'Ownr',
          null,
          el('Id', null, el('OrgId', null, el('Othr', null, leaf('Id', statement.ownerFiscalCode)))),
        );
  return el('Acct', null, el('Id', null, leaf('IBAN', statement.accountIban)), leaf('Ccy', CURRENCY), owner);
}

/**
 * The statement as a camt.053.001.02 document (one Stmt, every entry booked, in euro). It carries
 * no balances, since the model has none. Throws INVALID_DOCUMENT when the result would not be read
 * back as the same statement (the schema, or the reader's own rules such as unique entry refs).
 */
export function buildCamt053(statement: BankStatement): string {
  const xml = document(
    el(
      'Document',
      { xmlns: CAMT053_NS },
      el(
        'BkToCstmrStmt',
        null,
        el('GrpHdr', null, leaf('MsgId', statement.statementId), leaf('CreDtTm', statement.createdAt)),
        el(
          'Stmt',
          null,
          leaf('Id', statement.statementId),
          leaf('CreDtTm', statement.createdAt),
          account(statement),
          ...statement.entries.map(entryNode),
        ),
      ),
    ),
  );
  readCamt053(xml);
  return xml;
}

// ---------------------------------------------------------------- reading

function invalid(message: string, details: Record<string, unknown>): DomainError {
  return domainError('INVALID_DOCUMENT', message, details);
}

function text(node: XmlElement, xpath: string): string | null {
  const found = node.get(xpath, NS) as XmlElement | null;
  return found ? found.content.trim() : null;
}

function texts(node: XmlElement, xpath: string): string[] {
  return (node.find(xpath, NS) as XmlElement[]).map((n) => n.content.trim());
}

/**
 * Euro cents from an ISO amount (xs:decimal, up to 5 decimals): digits past the cents must be
 * zeros, the currency must be euro, and a booked amount is never zero.
 */
function centsOf(node: XmlElement, xpath: string, where: Record<string, unknown>): number {
  const amount = node.get(xpath, NS) as XmlElement | null;
  if (amount === null) throw invalid(`${xpath} is missing`, { ...where, field: xpath });
  const currency = amount.attr('Ccy')?.value;
  if (currency !== CURRENCY) {
    throw invalid(`${xpath} is in ${currency ?? 'no currency'}, not ${CURRENCY}`, {
      ...where,
      field: `${xpath}/@Ccy`,
    });
  }
  const match = /^\+?(\d*)(?:\.(\d*))?$/.exec(amount.content.trim());
  const fraction = match?.[2] ?? '';
  if (match === null || /[1-9]/.test(fraction.slice(2))) {
    throw invalid(`${xpath} is not a whole number of euro cents`, { ...where, field: xpath });
  }
  const cents = parseDecimalAmount(`${match[1] || '0'}.${fraction.slice(0, 2).padEnd(2, '0')}`);
  if (cents === 0) throw invalid(`${xpath} is zero`, { ...where, field: xpath });
  return cents;
}

/** A DateAndDateTimeChoice as YYYY-MM-DD (the date part of DtTm as written). */
function dateOf(node: XmlElement, name: string, where: Record<string, unknown>): string {
  const value = text(node, `c:${name}/c:Dt`) ?? text(node, `c:${name}/c:DtTm`)?.slice(0, 10) ?? null;
  if (value === null) throw invalid(`the entry has no ${name}`, { ...where, field: name });
  return value;
}

function endToEndIdOf(tx: XmlElement | null): string | null {
  const id = tx && text(tx, 'c:Refs/c:EndToEndId');
  return id === null || id.toUpperCase() === NOT_PROVIDED ? null : id;
}

/** AT-05: the Ustrd lines (joined by a space); banks that leave them empty put it in the additional info. */
function remittanceOf(tx: XmlElement | null, entry: XmlElement | null): string | null {
  const lines = tx ? texts(tx, 'c:RmtInf/c:Ustrd') : [];
  if (lines.length > 0) return lines.join(' ');
  return (tx && text(tx, 'c:AddtlTxInf')) ?? (entry && text(entry, 'c:AddtlNtryInf'));
}

interface EntryFacts {
  entryRef: string;
  direction: BankEntry['direction'];
  bookingDate: string;
  valueDate: string;
}

function fromTransaction(
  facts: EntryFacts,
  amountCents: number,
  tx: XmlElement | null,
  entry: XmlElement | null,
): BankEntry {
  return {
    entryRef: facts.entryRef,
    direction: facts.direction,
    amountCents,
    bookingDate: facts.bookingDate,
    valueDate: facts.valueDate,
    trn: tx && (text(tx, 'c:Refs/c:TxId') ?? text(tx, 'c:Refs/c:AcctSvcrRef')),
    endToEndId: endToEndIdOf(tx),
    debtorName: tx && text(tx, 'c:RltdPties/c:Dbtr/c:Nm'),
    remittanceInformation: remittanceOf(tx, entry),
  };
}

/**
 * One booked entry → one BankEntry; an entry that books a batch of several transactions → one
 * BankEntry per transaction (each its own SCT, TRN and remittance), with the transaction's own
 * amount, `<entry ref>/<n>` as ref, and amounts that must add up to the entry's.
 */
function readEntry(entry: XmlElement, index: number, statementId: string): BankEntry[] {
  const where = { entry: index + 1 };
  const facts: EntryFacts = {
    entryRef: text(entry, 'c:AcctSvcrRef') ?? text(entry, 'c:NtryRef') ?? `${statementId}/${index + 1}`,
    direction: text(entry, 'c:CdtDbtInd') as BankEntry['direction'],
    bookingDate: dateOf(entry, 'BookgDt', where),
    valueDate: dateOf(entry, 'ValDt', where),
  };
  const amountCents = centsOf(entry, 'c:Amt', where);
  const transactions = entry.find('c:NtryDtls/c:TxDtls', NS) as XmlElement[];
  if (transactions.length <= 1) return [fromTransaction(facts, amountCents, transactions[0] ?? null, entry)];
  const split = transactions.map((tx, n) => {
    const at = { ...where, transaction: n + 1 };
    const cents = tx.get('c:AmtDtls/c:TxAmt/c:Amt', NS)
      ? centsOf(tx, 'c:AmtDtls/c:TxAmt/c:Amt', at)
      : centsOf(tx, 'c:AmtDtls/c:InstdAmt/c:Amt', at);
    const ref = { ...facts, entryRef: `${facts.entryRef}/${n + 1}` };
    return fromTransaction(ref, cents, tx, null);
  });
  if (split.reduce((sum, e) => sum + e.amountCents, 0) !== amountCents) {
    throw invalid('the transactions of a batch entry do not add up to its amount', {
      ...where,
      field: 'Amt',
    });
  }
  return split;
}

function readStatementNode(stmt: XmlElement): BankStatement {
  const statementId = text(stmt, 'c:Id') ?? '';
  const accountIban = text(stmt, 'c:Acct/c:Id/c:IBAN');
  if (accountIban === null)
    throw invalid('the statement account is not identified by an IBAN', { field: 'Acct/Id/IBAN' });
  const currency = text(stmt, 'c:Acct/c:Ccy');
  if (currency !== null && currency !== CURRENCY) {
    throw invalid(`the account is in ${currency}, not ${CURRENCY}`, { field: 'Acct/Ccy' });
  }
  // Pending and information-only entries are not money on the account yet: only BOOK is read.
  const entries = (stmt.find('c:Ntry', NS) as XmlElement[]).flatMap((entry, index) =>
    text(entry, 'c:Sts') === 'BOOK' ? readEntry(entry, index, statementId) : [],
  );
  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.entryRef)) {
      throw invalid(`the entry reference ${entry.entryRef} appears twice`, {
        field: 'AcctSvcrRef',
        entryRef: entry.entryRef,
      });
    }
    seen.add(entry.entryRef);
  }
  return {
    format: 'camt053',
    statementId,
    createdAt: text(stmt, 'c:CreDtTm') ?? '',
    accountIban,
    ownerFiscalCode: text(stmt, 'c:Acct/c:Ownr/c:Id/c:OrgId/c:Othr/c:Id'),
    entries,
  };
}

/**
 * Parses (refusing any DOCTYPE), validates against xsd/flows/camt053.xsd and reads a statement of
 * one account in euro. Anything wrong is INVALID_DOCUMENT; nothing is returned partially.
 */
export function readCamt053(xml: string | Uint8Array): BankStatement {
  let doc;
  try {
    doc = parseUntrusted(xml);
  } catch (err) {
    if (err instanceof XmlRejected)
      throw invalid(`the camt.053 statement is rejected: ${err.message}`, { reason: err.reason });
    throw err;
  }
  try {
    const verdict = schemaFor(CAMT053_SCHEMA).validateNode(doc);
    if (!verdict.ok) {
      const complaints = verdict.violations
        .slice(0, 3)
        .map((v) => `line ${v.line}: ${v.message}`)
        .join(' ');
      throw invalid(`the camt.053 statement does not match its schema: ${complaints}`, {
        line: verdict.violations[0]?.line ?? null,
      });
    }
    const statements = doc.root.find('c:BkToCstmrStmt/c:Stmt', NS) as XmlElement[];
    if (statements.length !== 1) {
      throw invalid(`a camt.053 file must hold one statement (one account), not ${statements.length}`, {
        field: 'Stmt',
      });
    }
    return readStatementNode(statements[0]!);
  } finally {
    doc.dispose();
  }
}
