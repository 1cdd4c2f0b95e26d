// Bank statements: camt.053 (xsd/flows/camt053.xsd) and the CSV cash journal read into the same
// BankStatement, round-trip through their builders, and refuse anything doubtful as a whole
// (INVALID_DOCUMENT naming the line and field); the pagoPA remittance text names the flow.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { BankStatement } from '../../../src/reconciliation/model.ts';
import { buildCamt053, readCamt053 } from '../../../src/reconciliation/statements/camt053.ts';
import {
  buildCashJournal,
  CASH_JOURNAL_COLUMNS,
  readCashJournal,
} from '../../../src/reconciliation/statements/cashJournal.ts';
import { readStatement } from '../../../src/reconciliation/statements/index.ts';
import { flowIdFromRemittance, pagopaRemittance } from '../../../src/reconciliation/statements/remittance.ts';
import { schemaFor } from '../../../src/xml/schema.ts';
import { expectDomainError } from '../../support/expectDomainError.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../../../fixtures/reconciliation');
const CAMT053_XSD = path.resolve(import.meta.dirname, '../../../xsd/flows/camt053.xsd');
const fixture = (name: string) => fs.readFileSync(path.join(FIXTURES, name));

const FLOW_ID = '2026-11-27ABCDITMMXXX-0000000001';

/** What both valid fixtures say, format aside. */
const EXPECTED: Omit<BankStatement, 'format'> = {
  statementId: 'TES-20261127-0000231',
  createdAt: '2026-11-27T19:30:00+01:00',
  accountIban: 'IT60X0542811101000000123456',
  ownerFiscalCode: '01234567897',
  entries: [
    {
      entryRef: 'TES26112700000001',
      direction: 'CRDT',
      amountCents: 13750,
      bookingDate: '2026-11-27',
      valueDate: '2026-11-27',
      trn: '0306926330110611480320000000IT',
      endToEndId: null,
      debtorName: 'Banca Esempio S.p.A. Servizio pagoPA',
      remittanceInformation: `/PUR/LGPE-RIVERSAMENTO/URI/${FLOW_ID}`,
    },
    {
      entryRef: 'TES26112700000002',
      direction: 'CRDT',
      amountCents: 65000,
      bookingDate: '2026-11-27',
      valueDate: '2026-11-26',
      trn: '0200826331203912480320000000IT',
      endToEndId: 'AFFITTO-2026-11-ROSSI',
      debtorName: 'Mario Rossi',
      remittanceInformation: 'Canone locazione alloggio comunale novembre 2026',
    },
    {
      entryRef: 'TES26112700000003',
      direction: 'DBIT',
      amountCents: 155000,
      bookingDate: '2026-11-27',
      valueDate: '2026-11-27',
      trn: '0542826331100012480320000000IT',
      endToEndId: 'MANDATO-2026-004512',
      debtorName: 'Comune di Esempio',
      remittanceInformation: 'Mandato 4512/2026; fattura 118 del 2026-10-31',
    },
  ],
};

// ---------------------------------------------------------------- camt.053 helpers

const ACCOUNT = `<Acct><Id><IBAN>IT60X0542811101000000123456</IBAN></Id></Acct>`;

function camt(entries: string, opts: { account?: string; statements?: number } = {}): string {
  const stmt = (n: number) =>
    `<Stmt><Id>S-${n}</Id><CreDtTm>2026-11-27T19:30:00</CreDtTm>${opts.account ?? ACCOUNT}${entries}</Stmt>`;
  const statements = Array.from({ length: opts.statements ?? 1 }, (_, i) => stmt(i + 1)).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><GrpHdr><MsgId>M-1</MsgId><CreDtTm>2026-11-27T19:30:00</CreDtTm></GrpHdr>${statements}</BkToCstmrStmt></Document>`;
}

interface NtryParts {
  amount?: string;
  ccy?: string;
  sts?: string;
  dates?: string;
  ref?: string;
  details?: string;
  extra?: string;
}

function ntry(parts: NtryParts = {}): string {
  return [
    `<Ntry><Amt Ccy="${parts.ccy ?? 'EUR'}">${parts.amount ?? '10.00'}</Amt><CdtDbtInd>CRDT</CdtDbtInd>`,
    `<Sts>${parts.sts ?? 'BOOK'}</Sts>`,
    parts.dates ?? '<BookgDt><Dt>2026-11-27</Dt></BookgDt><ValDt><Dt>2026-11-27</Dt></ValDt>',
    parts.ref ?? '<AcctSvcrRef>R1</AcctSvcrRef>',
    parts.details ?? '',
    parts.extra ?? '',
    '</Ntry>',
  ].join('');
}

function tx(inner: string): string {
  return `<TxDtls>${inner}</TxDtls>`;
}

// ---------------------------------------------------------------- CSV helpers

const HEADER = CASH_JOURNAL_COLUMNS.join(';');
const ROW = [
  'IT60X0542811101000000123456',
  'J-1',
  '2026-11-27T19:30:00',
  'M-1',
  '2026-11-27',
  '2026-11-27',
  'C',
  '10.00',
  'TRN-1',
  '',
  'PSP Servizio pagoPA',
  '01234567897',
  `/PUR/LGPE-RIVERSAMENTO/URI/${FLOW_ID}`,
];

function csvRow(changes: Partial<Record<(typeof CASH_JOURNAL_COLUMNS)[number], string>> = {}): string {
  return CASH_JOURNAL_COLUMNS.map((column, i) => changes[column] ?? ROW[i]).join(';');
}

function journal(...rows: string[]): string {
  return [HEADER, ...rows].join('\r\n') + '\r\n';
}

describe('bank statements', () => {
  describe('camt.053', () => {
    it('reads the sample statement: TRN from Refs/TxId, NOTPROVIDED as no EndToEndId, the owner fiscal code', () => {
      expect(readCamt053(fixture('camt053/valid-statement.xml'))).to.deep.equal({
        format: 'camt053',
        ...EXPECTED,
      });
    });

    it('round-trips through buildCamt053, writing a document our schema accepts', () => {
      const statement = readCamt053(fixture('camt053/valid-statement.xml'));
      const xml = buildCamt053(statement);
      expect(schemaFor(CAMT053_XSD).validateXml(xml).ok).to.equal(true);
      expect(xml).to.contain('<TxId>0306926330110611480320000000IT</TxId>');
      expect(xml).to.contain('<Amt Ccy="EUR">137.50</Amt>');
      expect(readCamt053(xml)).to.deep.equal(statement);
    });

    it('round-trips a statement without owner, TRN, debtor or remittance, and one without entries', () => {
      const bare: BankStatement = {
        format: 'camt053',
        statementId: 'S-1',
        createdAt: '2026-11-27T19:30:00',
        accountIban: 'IT60X0542811101000000123456',
        ownerFiscalCode: null,
        entries: [{ ...EXPECTED.entries[0]!, trn: null, debtorName: null, remittanceInformation: null }],
      };
      expect(readCamt053(buildCamt053(bare))).to.deep.equal(bare);
      expect(readCamt053(buildCamt053({ ...bare, entries: [] }))).to.deep.equal({ ...bare, entries: [] });
    });

    it('refuses to build what it could not read back', () => {
      const entry = EXPECTED.entries[0]!;
      const statement: BankStatement = { format: 'camt053', ...EXPECTED };
      expectDomainError(
        () => buildCamt053({ ...statement, entries: [{ ...entry, remittanceInformation: 'x'.repeat(141) }] }),
        'INVALID_DOCUMENT',
      );
      expectDomainError(() => buildCamt053({ ...statement, entries: [entry, entry] }), 'INVALID_DOCUMENT', {
        field: 'AcctSvcrRef',
      });
      expectDomainError(
        () => buildCamt053({ ...statement, entries: [{ ...entry, amountCents: 0 }] }),
        'INVALID_DOCUMENT',
      );
    });

    it('rejects the invalid sample (CdtDbtInd DEBT) as a whole', () => {
      const error = expectDomainError(
        () => readCamt053(fixture('camt053/invalid-credit-debit-indicator.xml')),
        'INVALID_DOCUMENT',
      );
      expect(error.message).to.contain('CdtDbtInd');
    });

    it('rejects a DOCTYPE, malformed XML and another document', () => {
      const withDoctype = camt(ntry()).replace('?>', '?><!DOCTYPE Document [<!ENTITY x "y">]>');
      expectDomainError(() => readCamt053(withDoctype), 'INVALID_DOCUMENT', { reason: 'doctype' });
      expectDomainError(() => readCamt053('<Document'), 'INVALID_DOCUMENT', { reason: 'malformed' });
      const otherVersion = camt(ntry()).replace('camt.053.001.02', 'camt.053.001.08');
      expectDomainError(() => readCamt053(otherVersion), 'INVALID_DOCUMENT');
    });

    it('reads amounts to cents without floating point and refuses fractions of a cent, zero and other currencies', () => {
      expect(readCamt053(camt(ntry({ amount: '1234.5' }))).entries[0]!.amountCents).to.equal(123450);
      expect(readCamt053(camt(ntry({ amount: '0.10000' }))).entries[0]!.amountCents).to.equal(10);
      expect(readCamt053(camt(ntry({ amount: '9999999999999.99' }))).entries[0]!.amountCents).to.equal(
        999999999999999,
      );
      expectDomainError(() => readCamt053(camt(ntry({ amount: '10.005' }))), 'INVALID_DOCUMENT', {
        entry: 1,
        field: 'c:Amt',
      });
      expectDomainError(() => readCamt053(camt(ntry({ amount: '0.00' }))), 'INVALID_DOCUMENT', { entry: 1 });
      expectDomainError(() => readCamt053(camt(ntry({ ccy: 'CHF' }))), 'INVALID_DOCUMENT', {
        field: 'c:Amt/@Ccy',
      });
      expectDomainError(() => readCamt053(camt(ntry({ amount: '-10.00' }))), 'INVALID_DOCUMENT');
    });

    it('takes the date part of a DtTm and refuses a booked entry without a value date', () => {
      const dates = '<BookgDt><DtTm>2026-11-27T09:15:00</DtTm></BookgDt><ValDt><Dt>2026-11-26</Dt></ValDt>';
      const [entry] = readCamt053(camt(ntry({ dates }))).entries;
      expect([entry!.bookingDate, entry!.valueDate]).to.deep.equal(['2026-11-27', '2026-11-26']);
      expectDomainError(
        () => readCamt053(camt(ntry({ dates: '<BookgDt><Dt>2026-11-27</Dt></BookgDt>' }))),
        'INVALID_DOCUMENT',
        { entry: 1, field: 'ValDt' },
      );
    });

    it('reads only booked entries: pending and information-only ones are not money yet', () => {
      const entries =
        ntry({ sts: 'PDNG', ref: '<AcctSvcrRef>P</AcctSvcrRef>' }) + ntry() + ntry({ sts: 'INFO', ref: '' });
      expect(readCamt053(camt(entries)).entries.map((e) => e.entryRef)).to.deep.equal(['R1']);
    });

    it('takes the TRN from TxId, else the transaction AcctSvcrRef, never the entry AcctSvcrRef', () => {
      const both = tx('<Refs><AcctSvcrRef>BANK-TX</AcctSvcrRef><TxId>TRN-TX</TxId></Refs>');
      const servicerOnly = tx('<Refs><AcctSvcrRef>BANK-TX</AcctSvcrRef><EndToEndId>E2E</EndToEndId></Refs>');
      const trnOf = (details: string) =>
        readCamt053(camt(ntry({ details: details && `<NtryDtls>${details}</NtryDtls>` }))).entries[0]!.trn;
      expect(trnOf(both)).to.equal('TRN-TX');
      expect(trnOf(servicerOnly)).to.equal('BANK-TX');
      expect(trnOf('')).to.equal(null);
    });

    it('falls back to NtryRef, then to the statement id and position, for the entry reference', () => {
      const entries = ntry({ ref: '' }) + ntry({ ref: '' }).replace('<Ntry>', '<Ntry><NtryRef>N-7</NtryRef>');
      expect(readCamt053(camt(entries)).entries.map((e) => e.entryRef)).to.deep.equal(['S-1/1', 'N-7']);
      expectDomainError(() => readCamt053(camt(ntry() + ntry())), 'INVALID_DOCUMENT', { entryRef: 'R1' });
    });

    it('joins several Ustrd lines, and uses the additional information when there is none', () => {
      const lines = tx('<RmtInf><Ustrd>/PUR/LGPE-RIVERSAMENTO/URI/F-1</Ustrd><Ustrd>extra</Ustrd></RmtInf>');
      const viaLines = readCamt053(camt(ntry({ details: `<NtryDtls>${lines}</NtryDtls>` })));
      expect(viaLines.entries[0]!.remittanceInformation).to.equal('/PUR/LGPE-RIVERSAMENTO/URI/F-1 extra');
      const viaInfo = readCamt053(
        camt(ntry({ extra: '<AddtlNtryInf>/PUR/LGPE-RIVERSAMENTO/URI/F-2</AddtlNtryInf>' })),
      );
      expect(flowIdFromRemittance(viaInfo.entries[0]!.remittanceInformation)).to.equal('F-2');
    });

    it('splits a batch entry into one entry per transaction, whose amounts must add up', () => {
      const part = (amount: string, trn: string, flow: string) =>
        tx(
          `<Refs><TxId>${trn}</TxId></Refs><AmtDtls><TxAmt><Amt Ccy="EUR">${amount}</Amt></TxAmt></AmtDtls>` +
            `<RmtInf><Ustrd>/PUR/LGPE-RIVERSAMENTO/URI/${flow}</Ustrd></RmtInf>`,
        );
      const details = `<NtryDtls>${part('7.50', 'T-A', 'F-A')}${part('2.50', 'T-B', 'F-B')}</NtryDtls>`;
      const { entries } = readCamt053(camt(ntry({ details })));
      expect(
        entries.map((e) => [e.entryRef, e.amountCents, e.trn, flowIdFromRemittance(e.remittanceInformation)]),
      ).to.deep.equal([
        ['R1/1', 750, 'T-A', 'F-A'],
        ['R1/2', 250, 'T-B', 'F-B'],
      ]);
      const wrong = `<NtryDtls>${part('7.50', 'T-A', 'F-A')}${part('2.00', 'T-B', 'F-B')}</NtryDtls>`;
      expectDomainError(() => readCamt053(camt(ntry({ details: wrong }))), 'INVALID_DOCUMENT', {
        field: 'Amt',
      });
      const noAmount = `<NtryDtls>${part('7.50', 'T-A', 'F-A')}${tx('<Refs><TxId>T-C</TxId></Refs>')}</NtryDtls>`;
      expectDomainError(() => readCamt053(camt(ntry({ details: noAmount }))), 'INVALID_DOCUMENT', {
        transaction: 2,
      });
    });

    it('refuses a file of several statements or an account without IBAN', () => {
      expectDomainError(() => readCamt053(camt(ntry(), { statements: 2 })), 'INVALID_DOCUMENT', {
        field: 'Stmt',
      });
      const other = '<Acct><Id><Othr><Id>000012345678</Id></Othr></Id></Acct>';
      expectDomainError(() => readCamt053(camt(ntry(), { account: other })), 'INVALID_DOCUMENT', {
        field: 'Acct/Id/IBAN',
      });
      const dollars = '<Acct><Id><IBAN>IT60X0542811101000000123456</IBAN></Id><Ccy>USD</Ccy></Acct>';
      expectDomainError(() => readCamt053(camt(ntry(), { account: dollars })), 'INVALID_DOCUMENT', {
        field: 'Acct/Ccy',
      });
    });

    it('rejects elements out of the standard order', () => {
      const swapped = ntry().replace(
        '<BookgDt><Dt>2026-11-27</Dt></BookgDt><ValDt><Dt>2026-11-27</Dt></ValDt>',
        '<ValDt><Dt>2026-11-27</Dt></ValDt><BookgDt><Dt>2026-11-27</Dt></BookgDt>',
      );
      expectDomainError(() => readCamt053(camt(swapped)), 'INVALID_DOCUMENT');
    });
  });

  describe('cash journal (CSV)', () => {
    it('reads the sample journal to the same statement as the camt.053 sample', () => {
      expect(readCashJournal(fixture('cashJournal/valid-statement.csv'))).to.deep.equal({
        format: 'csv',
        ...EXPECTED,
      });
    });

    it('round-trips through buildCashJournal, with CRLF lines and the quoted remittance', () => {
      const statement = readCashJournal(fixture('cashJournal/valid-statement.csv'));
      const csv = buildCashJournal(statement);
      expect(csv.startsWith(`${HEADER}\r\n`)).to.equal(true);
      expect(csv).to.contain(';D;1550.00;');
      expect(csv).to.contain('"Mandato 4512/2026; fattura 118 del 2026-10-31"');
      expect(readCashJournal(csv)).to.deep.equal(statement);
    });

    it('writes the camt.053 sample as a journal that reads back the same, and back again', () => {
      const fromCamt = readCamt053(fixture('camt053/valid-statement.xml'));
      const csvStatement = readCashJournal(buildCashJournal(fromCamt));
      expect(csvStatement).to.deep.equal({ ...fromCamt, format: 'csv' });
      expect(readCamt053(buildCamt053(csvStatement))).to.deep.equal(fromCamt);
    });

    it('keeps quotes, semicolons and accented letters in free text', () => {
      const statement = readCashJournal(journal(csvRow()));
      const entry = {
        ...statement.entries[0]!,
        debtorName: 'Società "Alfa"; Servizio pagoPA',
        remittanceInformation: 'Già pagato; rata 2',
      };
      const again = readCashJournal(buildCashJournal({ ...statement, entries: [entry] }));
      expect(again.entries[0]).to.deep.equal(entry);
    });

    it('refuses to write a journal without movements or with a movement it could not read back', () => {
      const statement = readCashJournal(journal(csvRow()));
      expectDomainError(() => buildCashJournal({ ...statement, entries: [] }), 'INVALID_DOCUMENT', {
        line: 2,
      });
      expectDomainError(
        () =>
          buildCashJournal({
            ...statement,
            entries: [{ ...statement.entries[0]!, valueDate: '2026-13-01' }],
          }),
        'INVALID_DOCUMENT',
        { line: 2, field: 'data_valuta' },
      );
    });

    it('tolerates a BOM, LF line ends and blank lines; reads bytes as UTF-8', () => {
      const text = `\uFEFF${HEADER}\n${csvRow()}\n\n${csvRow({ id_movimento: 'M-2', ordinante: 'Città di Prova' })}\n`;
      const statement = readCashJournal(Buffer.from(text, 'utf8'));
      expect(statement.entries.map((e) => [e.entryRef, e.debtorName])).to.deep.equal([
        ['M-1', 'PSP Servizio pagoPA'],
        ['M-2', 'Città di Prova'],
      ]);
      expect(readCashJournal(text).entries).to.have.length(2);
    });

    it('rejects the invalid sample (decimal comma) at line 3, importo', () => {
      expectDomainError(
        () => readCashJournal(fixture('cashJournal/invalid-amount-comma.csv')),
        'INVALID_DOCUMENT',
        {
          line: 3,
          field: 'importo',
        },
      );
    });

    it('rejects a wrong header: renamed, missing, reordered or extra column, or no header at all', () => {
      const columns = [...CASH_JOURNAL_COLUMNS] as string[];
      const variants = [
        columns.map((c) => (c === 'importo' ? 'Importo' : c)),
        columns.slice(0, -1),
        [columns[1]!, columns[0]!, ...columns.slice(2)],
        [...columns, 'note'],
      ];
      for (const header of variants) {
        const text = `${header.join(';')}\r\n${csvRow()}\r\n`;
        expectDomainError(() => readCashJournal(text), 'INVALID_DOCUMENT', { line: 1, field: 'header' });
      }
      expectDomainError(() => readCashJournal(`${csvRow()}\r\n`), 'INVALID_DOCUMENT', {
        line: 1,
        field: 'header',
      });
      expectDomainError(() => readCashJournal(''), 'INVALID_DOCUMENT', { line: 1, field: 'header' });
      expectDomainError(() => readCashJournal(`${HEADER}\r\n`), 'INVALID_DOCUMENT', {
        line: 2,
        field: 'id_movimento',
      });
    });

    it('rejects a ragged line, naming it', () => {
      const short = csvRow().split(';').slice(0, -1).join(';');
      expectDomainError(() => readCashJournal(journal(csvRow(), short)), 'INVALID_DOCUMENT', {
        line: 3,
        field: null,
      });
      expectDomainError(
        () => readCashJournal(journal(csvRow(), `${csvRow({ id_movimento: 'M-2' })};`)),
        'INVALID_DOCUMENT',
        {
          line: 3,
          field: null,
        },
      );
    });

    it('rejects bad amounts: decimal comma, one or three decimals, sign, thousands separator, zero', () => {
      for (const importo of [
        '10,00',
        '10.0',
        '10.000',
        '-10.00',
        '+10.00',
        '1.234.00',
        '1,234.00',
        '0.00',
        '',
        ' 10.00',
      ]) {
        expectDomainError(() => readCashJournal(journal(csvRow({ importo }))), 'INVALID_DOCUMENT', {
          line: 2,
          field: 'importo',
        });
      }
    });

    it('rejects bad dates, naming the column', () => {
      for (const [field, value] of [
        ['data_contabile', '27/11/2026'],
        ['data_contabile', '2026-02-30'],
        ['data_valuta', '2026-11-27T00:00:00'],
        ['data_valuta', ''],
        ['data_creazione', '2026-11-27'],
        ['data_creazione', '2026-11-31T10:00:00'],
        ['data_creazione', '2026-11-27 10:00:00'],
      ] as const) {
        expectDomainError(() => readCashJournal(journal(csvRow({ [field]: value }))), 'INVALID_DOCUMENT', {
          line: 2,
          field,
        });
      }
      expect(
        readCashJournal(journal(csvRow({ data_creazione: '2026-11-27T10:00:00.250Z' }))).createdAt,
      ).to.equal('2026-11-27T10:00:00.250Z');
    });

    it('rejects a bad sign, an empty or repeated movement id, a bad IBAN or fiscal code', () => {
      const cases: [Partial<Record<(typeof CASH_JOURNAL_COLUMNS)[number], string>>, string][] = [
        [{ segno: 'X' }, 'segno'],
        [{ segno: 'c' }, 'segno'],
        [{ id_movimento: '' }, 'id_movimento'],
        [{ conto_iban: 'IT60X0542811101000000123457' }, 'conto_iban'],
        [{ conto_iban: 'it60x0542811101000000123456' }, 'conto_iban'],
        [{ codice_fiscale_ente: '01234567890' }, 'codice_fiscale_ente'],
        [{ id_estratto: '' }, 'id_estratto'],
      ];
      for (const [changes, field] of cases) {
        expectDomainError(() => readCashJournal(journal(csvRow(changes))), 'INVALID_DOCUMENT', {
          line: 2,
          field,
        });
      }
      expectDomainError(() => readCashJournal(journal(csvRow(), csvRow())), 'INVALID_DOCUMENT', {
        line: 3,
        field: 'id_movimento',
      });
    });

    it('rejects a line whose statement columns differ from the first line', () => {
      expect(readCashJournal(journal(csvRow(), csvRow({ id_movimento: 'M-2' }))).entries).to.have.length(2);
      for (const field of ['conto_iban', 'id_estratto', 'data_creazione', 'codice_fiscale_ente'] as const) {
        const changed = csvRow({
          id_movimento: 'M-2',
          [field]: field === 'codice_fiscale_ente' ? '' : 'other',
        });
        expectDomainError(() => readCashJournal(journal(csvRow(), changed)), 'INVALID_DOCUMENT', {
          line: 3,
          field,
        });
      }
    });

    it('rejects bytes that are not UTF-8 and an unclosed quote', () => {
      const latin1 = Buffer.concat([
        Buffer.from(`${HEADER}\r\n`),
        Buffer.from(csvRow({ ordinante: 'Citt\u00e0' }), 'latin1'),
      ]);
      expectDomainError(() => readCashJournal(latin1), 'INVALID_DOCUMENT', { line: 1, field: null });
      expectDomainError(
        () => readCashJournal(journal(csvRow({ causale: '"unterminated' }))),
        'INVALID_DOCUMENT',
        {
          field: null,
        },
      );
    });

    it('reads NOTPROVIDED and empty optional columns as null', () => {
      const [entry] = readCashJournal(
        journal(csvRow({ end_to_end_id: 'NOTPROVIDED', trn: '', causale: '', ordinante: '' })),
      ).entries;
      expect([entry!.endToEndId, entry!.trn, entry!.remittanceInformation, entry!.debtorName]).to.deep.equal([
        null,
        null,
        null,
        null,
      ]);
      expect(readCashJournal(journal(csvRow({ codice_fiscale_ente: '' }))).ownerFiscalCode).to.equal(null);
    });
  });

  describe('readStatement', () => {
    it('picks the reader by extension, case-insensitively', () => {
      expect(readStatement(fixture('camt053/valid-statement.xml'), 'TES-20261127.XML').format).to.equal(
        'camt053',
      );
      expect(readStatement(fixture('cashJournal/valid-statement.csv'), 'giornale.csv').format).to.equal(
        'csv',
      );
    });

    it('refuses any other extension, and a file whose content is not of its extension', () => {
      expectDomainError(
        () => readStatement(fixture('cashJournal/valid-statement.csv'), 'giornale.txt'),
        'INVALID_DOCUMENT',
        {
          field: 'fileName',
        },
      );
      expectDomainError(
        () => readStatement(fixture('camt053/valid-statement.xml'), 'estratto'),
        'INVALID_DOCUMENT',
      );
      expectDomainError(
        () => readStatement(fixture('cashJournal/valid-statement.csv'), 'x.xml'),
        'INVALID_DOCUMENT',
      );
      expectDomainError(
        () => readStatement(fixture('camt053/valid-statement.xml'), 'x.csv'),
        'INVALID_DOCUMENT',
      );
    });
  });

  describe('pagoPA remittance', () => {
    it('writes /PUR/LGPE-RIVERSAMENTO/URI/<flow id>, with the /TXT/<n> progressive when given', () => {
      expect(pagopaRemittance(FLOW_ID)).to.equal(`/PUR/LGPE-RIVERSAMENTO/URI/${FLOW_ID}`);
      expect(pagopaRemittance(FLOW_ID, 0)).to.equal(`/PUR/LGPE-RIVERSAMENTO/TXT/0/URI/${FLOW_ID}`);
      expect(pagopaRemittance(FLOW_ID, 9)).to.equal(`/PUR/LGPE-RIVERSAMENTO/TXT/9/URI/${FLOW_ID}`);
    });

    it('refuses a progressive outside 0-9 and a flow id the flow schema would refuse', () => {
      for (const p of [-1, 10, 1.5])
        expectDomainError(() => pagopaRemittance(FLOW_ID, p), 'INVALID_INPUT', { field: 'progressive' });
      for (const id of ['', 'a/b', 'x'.repeat(36)])
        expectDomainError(() => pagopaRemittance(id), 'INVALID_INPUT', { field: 'flowId' });
    });

    it('reads back the flow id of every form it writes', () => {
      for (const p of [undefined, 0, 5, 9])
        expect(flowIdFromRemittance(pagopaRemittance(FLOW_ID, p))).to.equal(FLOW_ID);
    });

    it('reads the older free-text form, surrounding text and any case of the prefix', () => {
      const cases: [string, string][] = [
        [`/PUR/LGPE-RIVERSAMENTO Cumulativo pagamenti/URI/${FLOW_ID}`, FLOW_ID],
        [`/PUR/LGPE-RIVERSAMENTO Cumulativo del 26/11/2026/URI/${FLOW_ID}`, FLOW_ID],
        [`BONIFICO SEPA /pur/lgpe-riversamento/uri/${FLOW_ID} DA BANCA ESEMPIO`, FLOW_ID],
        [`/PUR/LGPE-RIVERSAMENTO/TXT/3/URI/${FLOW_ID}/altro`, FLOW_ID],
        ['/PUR/LGPE-RIVERSAMENTO/URI/ 2026-11-27BCITITMM-1', '2026-11-27BCITITMM-1'],
        ['/PUR/LGPE-RIVERSAMENTO/URI/2026-11-27bcititmm-1', '2026-11-27bcititmm-1'],
      ];
      for (const [text, id] of cases) expect(flowIdFromRemittance(text), text).to.equal(id);
    });

    it('finds nothing in other text, a missing id or an id too long to be one', () => {
      for (const text of [
        null,
        '',
        'Canone locazione novembre 2026',
        `/RFB/01000000001234519/87.50/TXT/URI/${FLOW_ID}`,
        '/PUR/LGPE-RIVERSAMENTO/URI/',
        `/PUR/LGPE-RIVERSAMENTO/URI/${'A'.repeat(36)}`,
        `/PUR/LGPE-RIVERSAMENT/URI/${FLOW_ID}`,
      ]) {
        expect(flowIdFromRemittance(text), String(text)).to.equal(null);
      }
    });
  });
});
