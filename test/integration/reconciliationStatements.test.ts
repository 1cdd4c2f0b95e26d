// Importing treasury bank statements on every database of the matrix: a file is stored whole once
// (the same file again changes nothing), the same credits in the camt.053 and the CSV are stored
// once, a bad file or one for another ente leaves nothing, and the treasury folder moves each file
// to done/ or rejected/ with its reason, leaving files still being written alone.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { forEachDatabase } from '../support/db.ts';
import { expectRejection } from './helpers.ts';
import { seedDemo } from '../../src/app/seedDemo.ts';
import { importStatement, importTreasuryFolder } from '../../src/app/reconciliation/importStatement.ts';
import { unmatchedCredits } from '../../src/app/reconciliation/views.ts';
import type { BankEntry } from '../../src/reconciliation/model.ts';
import {
  camtOf,
  COMUNE,
  creditFor,
  csvOf,
  dropStatement,
  flowDocument,
  statement,
  tempDataDir,
  UNIONE,
} from './reconciliationSupport.ts';

async function counts(db: Knex): Promise<{ statements: number; credits: number }> {
  const [s] = await db('bank_statements').count<{ n: number | string }[]>({ n: '*' });
  const [c] = await db('bank_credits').count<{ n: number | string }[]>({ n: '*' });
  return { statements: Number(s?.n ?? 0), credits: Number(c?.n ?? 0) };
}

const flowA = flowDocument({
  flowId: '2026-11-20BCITITMM-0001',
  settlementDate: '2026-11-20',
  payments: [
    {
      iuv: '01000000000000101',
      iur: 'R1',
      transferIndex: 1,
      amountCents: 12030,
      outcomeCode: '0',
      outcomeDate: '2026-11-20',
    },
  ],
});
const flowB = flowDocument({
  flowId: '2026-11-20UNCRITMM-0001',
  psp: 'UNCRITMM',
  settlementDate: '2026-11-20',
  payments: [
    {
      iuv: '01000000000000102',
      iur: 'R2',
      transferIndex: 1,
      amountCents: 8750,
      outcomeCode: '0',
      outcomeDate: '2026-11-20',
    },
  ],
});
const rent: BankEntry = {
  entryRef: 'AFFITTO-2026-11',
  direction: 'CRDT',
  amountCents: 50000,
  bookingDate: '2026-11-20',
  valueDate: '2026-11-20',
  trn: null,
  endToEndId: null,
  debtorName: 'Mario Rossi',
  remittanceInformation: 'Affitto locali novembre',
};

forEachDatabase('reconciliation: bank statements', (ctx) => {
  let comuneId: number;

  before(async () => {
    await seedDemo(ctx.store);
    comuneId = (await ctx.store.enti.getByFiscalCode(COMUNE))!.id;
  });

  it('stores a statement whole once: the same file again is "already imported" and changes nothing', async () => {
    const s = statement([creditFor(flowA), creditFor(flowB), rent], { statementId: 'STMT-2026-11-20' });
    const file = { enteFiscalCode: COMUNE, fileName: 'giornale-2026-11-20.xml', content: camtOf(s) };
    const first = await importStatement(ctx.store, file);
    expect(first).to.include({
      status: 'imported',
      format: 'camt053',
      entries: 3,
      newCredits: 3,
      duplicates: 0,
      pagopaCredits: 2,
    });
    const after = await counts(ctx.db);
    const second = await importStatement(ctx.store, file);
    expect(second).to.include({
      status: 'already_imported',
      statementRowId: first.statementRowId,
      newCredits: 0,
    });
    expect(await counts(ctx.db)).to.deep.equal(after);
    const credits = await ctx.store.bankStatements.listCredits(comuneId);
    expect(credits.map((c) => [c.amountCents, c.flowId])).to.deep.equal([
      [12030, flowA.flowId],
      [8750, flowB.flowId],
      [50000, null],
    ]);
  });

  it('does not double the credits of the same day written as camt.053 and as CSV', async () => {
    const s = statement([creditFor(flowA), creditFor(flowB), rent], { statementId: 'STMT-2026-11-20' });
    const before = await counts(ctx.db);
    const csv = await importStatement(ctx.store, {
      enteFiscalCode: COMUNE,
      fileName: 'giornale-2026-11-20.csv',
      content: csvOf(s),
    });
    expect(csv).to.include({ status: 'imported', format: 'csv', newCredits: 0, duplicates: 3 });
    expect(await counts(ctx.db)).to.deep.equal({
      statements: before.statements + 1,
      credits: before.credits,
    });
  });

  it('keeps a credit that is not a pagoPA settlement as an unmatched credit', async () => {
    const unmatched = await unmatchedCredits(ctx.store, comuneId, {
      fromDate: '2026-11-20',
      toDate: '2026-11-20',
    });
    expect(unmatched.map((c) => [c.entryRef, c.amountCents, c.flowId])).to.include.deep.members([
      ['AFFITTO-2026-11', 50000, null],
    ]);
  });

  it('rejects a file that breaks its format, or names another ente as the account owner, and stores nothing', async () => {
    const before = await counts(ctx.db);
    await expectRejection(
      importStatement(ctx.store, {
        enteFiscalCode: COMUNE,
        fileName: 'broken.xml',
        content: '<Document><BkToCstmrStmt/></Document>',
      }),
      'INVALID_DOCUMENT',
    );
    const forUnione = statement(
      [creditFor(flowDocument({ ...flowA, flowId: '2026-11-21BCITITMM-0001', payments: flowA.payments }))],
      {
        statementId: 'STMT-U',
        owner: UNIONE,
      },
    );
    const error = await expectRejection(
      importStatement(ctx.store, {
        enteFiscalCode: COMUNE,
        fileName: 'unione.xml',
        content: camtOf(forUnione),
      }),
      'STATEMENT_ENTE_MISMATCH',
    );
    expect(error.details).to.include({ ownerFiscalCode: UNIONE, enteFiscalCode: COMUNE });
    await expectRejection(
      importStatement(ctx.store, {
        enteFiscalCode: '00000000000',
        fileName: 'x.xml',
        content: camtOf(forUnione),
      }),
      'ENTE_UNKNOWN',
    );
    expect(await counts(ctx.db)).to.deep.equal(before);
  });

  it('imports the treasury folder: done/ for imported and repeated files, rejected/ with the reason, .part left alone', async () => {
    const dataDir = tempDataDir();
    const day = statement(
      [
        creditFor(
          flowDocument({
            ...flowA,
            flowId: '2026-11-22BCITITMM-0001',
            settlementDate: '2026-11-22',
            payments: flowA.payments,
          }),
        ),
      ],
      {
        statementId: 'STMT-2026-11-22',
      },
    );
    dropStatement(dataDir, COMUNE, 'day.xml', camtOf(day));
    dropStatement(dataDir, COMUNE, 'day.csv', csvOf(day));
    dropStatement(dataDir, COMUNE, 'again.xml', camtOf(day));
    dropStatement(dataDir, COMUNE, 'bad.xml', '<not-a-statement/>');
    const partial = dropStatement(dataDir, COMUNE, 'next.xml.part', camtOf(day).slice(0, 50));
    dropStatement(dataDir, '00000000000', 'stray.xml', camtOf(day));

    const summary = await importTreasuryFolder(ctx.store, dataDir);
    expect(summary).to.include({ imported: 2, alreadyImported: 1, rejected: 2 });
    const base = path.join(dataDir, 'treasury', COMUNE);
    for (const name of ['day.xml', 'day.csv', 'again.xml'])
      expect(existsSync(path.join(base, 'done', name)), name).to.equal(true);
    expect(readFileSync(path.join(base, 'rejected', 'bad.xml.error.txt'), 'utf8')).to.match(
      /^INVALID_DOCUMENT: /,
    );
    expect(
      readFileSync(path.join(dataDir, 'treasury', '00000000000', 'rejected', 'stray.xml.error.txt'), 'utf8'),
    ).to.match(/^ENTE_UNKNOWN: /);
    expect(existsSync(partial)).to.equal(true);
    expect(await importTreasuryFolder(ctx.store, dataDir, { enteFiscalCode: COMUNE })).to.include({
      imported: 0,
      rejected: 0,
    });
  });
});
