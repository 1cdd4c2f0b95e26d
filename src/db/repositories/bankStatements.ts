// The treasury's bank statements (camt.053 or the CSV cash journal, pagopa-facts §8.4) and their
// entries. A file is stored once per ente (by sha256); an entry already seen in another file (the
// same day's camt.053 and CSV) has the same dedup key and is stored once.

import type { BankEntry, BankStatement, StatementFormat } from '../../reconciliation/model.ts';
import type { Db } from '../knex.ts';
import { isUniqueViolation } from '../errors.ts';
import { appendEvent, type ChangeContext } from './events.ts';
import { chunk, inTransaction, insertedId, isoNow, toInt, toIntOrNull, type Clock } from '../rows.ts';

export const BANK_STATEMENT = 'bank_statement';

export interface StoredStatement {
  id: number;
  enteId: number;
  format: StatementFormat;
  statementId: string;
  fileName: string;
  sha256: string;
  accountIban: string;
  createdAt: string;
  entryCount: number;
  newCreditCount: number;
  importedAt: string;
}

/** A stored entry: the bank's fields as read, and what the connector made of them. */
export interface StoredCredit extends BankEntry {
  id: number;
  enteId: number;
  statementRowId: number;
  flowId: string | null;
  matchedFlowRowId: number | null;
  dedupKey: string;
  importedAt: string;
  /** The statement id of the file that brought the entry first. */
  statementId: string;
}

/** An entry to store, with the flow id read from its remittance (null: not a pagoPA settlement). */
export interface NewCredit extends BankEntry {
  flowId: string | null;
}

export interface InsertedStatement {
  /** False when the same file (sha256) was imported already for the ente: nothing was written. */
  created: boolean;
  statement: StoredStatement;
  /** Entries stored now; the others were seen before in this or another file. */
  newCredits: number;
  duplicates: number;
}

interface StatementRow {
  id: number | string;
  ente_id: number | string;
  format: StatementFormat;
  statement_id: string;
  file_name: string;
  sha256: string;
  account_iban: string;
  created_at: string;
  entry_count: number | string;
  new_credit_count: number | string;
  imported_at: string;
}

interface CreditRow {
  id: number | string;
  ente_id: number | string;
  statement_row_id: number | string;
  entry_ref: string;
  direction: 'CRDT' | 'DBIT';
  amount_cents: number | string;
  booking_date: string;
  value_date: string;
  trn: string | null;
  end_to_end_id: string | null;
  debtor_name: string | null;
  remittance_information: string | null;
  flow_id: string | null;
  matched_flow_row_id: number | string | null;
  dedup_key: string;
  imported_at: string;
  statement_id: string;
}

function toStatement(row: StatementRow): StoredStatement {
  return {
    id: toInt(row.id),
    enteId: toInt(row.ente_id),
    format: row.format,
    statementId: row.statement_id,
    fileName: row.file_name,
    sha256: row.sha256,
    accountIban: row.account_iban,
    createdAt: row.created_at,
    entryCount: toInt(row.entry_count),
    newCreditCount: toInt(row.new_credit_count),
    importedAt: row.imported_at,
  };
}

function toCredit(row: CreditRow): StoredCredit {
  return {
    id: toInt(row.id),
    enteId: toInt(row.ente_id),
    statementRowId: toInt(row.statement_row_id),
    entryRef: row.entry_ref,
    direction: row.direction,
    amountCents: toInt(row.amount_cents),
    bookingDate: row.booking_date,
    valueDate: row.value_date,
    trn: row.trn,
    endToEndId: row.end_to_end_id,
    debtorName: row.debtor_name,
    remittanceInformation: row.remittance_information,
    flowId: row.flow_id,
    matchedFlowRowId: toIntOrNull(row.matched_flow_row_id),
    dedupKey: row.dedup_key,
    importedAt: row.imported_at,
    statementId: row.statement_id,
  };
}

/**
 * The identity of an entry across files: by TRN, amount and value date (the same SCT in the
 * camt.053 and in the CSV), or by the bank's entry reference when there is no TRN.
 */
export function creditDedupKey(entry: BankEntry): string {
  return entry.trn
    ? `${entry.direction}|trn:${entry.trn}|${entry.amountCents}|${entry.valueDate}`
    : `${entry.direction}|ref:${entry.entryRef}`;
}

function creditColumns(enteId: number, statementRowId: number, credit: NewCredit, now: string) {
  return {
    ente_id: enteId,
    statement_row_id: statementRowId,
    entry_ref: credit.entryRef,
    direction: credit.direction,
    amount_cents: credit.amountCents,
    booking_date: credit.bookingDate,
    value_date: credit.valueDate,
    trn: credit.trn,
    end_to_end_id: credit.endToEndId,
    debtor_name: credit.debtorName,
    remittance_information: credit.remittanceInformation,
    flow_id: credit.flowId,
    matched_flow_row_id: null,
    dedup_key: creditDedupKey(credit),
    imported_at: now,
  };
}

function creditQuery(db: Db) {
  return db<CreditRow>('bank_credits as c')
    .join('bank_statements as s', 's.id', 'c.statement_row_id')
    .select('c.*', 's.statement_id');
}

export function createBankStatementsRepository(db: Db, clock: Clock) {
  const findBySha = async (enteId: number, sha256: string): Promise<StoredStatement | null> => {
    const row = await db<StatementRow>('bank_statements').where({ ente_id: enteId, sha256 }).first();
    return row ? toStatement(row) : null;
  };

  const insertAll = (
    enteId: number,
    file: { fileName: string; sha256: string; statement: BankStatement; credits: readonly NewCredit[] },
    ctx: ChangeContext,
  ) =>
    inTransaction(db, async (trx) => {
      const now = isoNow(clock);
      const id = insertedId(
        await trx('bank_statements')
          .insert({
            ente_id: enteId,
            format: file.statement.format,
            statement_id: file.statement.statementId,
            file_name: file.fileName,
            sha256: file.sha256,
            account_iban: file.statement.accountIban,
            created_at: file.statement.createdAt,
            entry_count: file.statement.entries.length,
            new_credit_count: 0,
            imported_at: now,
          })
          .returning('id'),
      );
      let newCredits = 0;
      for (const part of chunk(file.credits, 200)) {
        const inserted: unknown[] = await trx('bank_credits')
          .insert(part.map((c) => creditColumns(enteId, id, c, now)))
          .onConflict(['ente_id', 'dedup_key'])
          .ignore()
          .returning('id');
        newCredits += inserted.length;
      }
      await trx('bank_statements').where({ id }).update({ new_credit_count: newCredits });
      await appendEvent(trx, clock, {
        entityType: BANK_STATEMENT,
        entityId: id,
        action: 'imported',
        cause: ctx.cause,
        actor: ctx.actor,
        payload: ctx.payload ?? {
          fileName: file.fileName,
          statementId: file.statement.statementId,
          entries: file.statement.entries.length,
          newCredits,
        },
      });
      return { id, newCredits };
    });

  return {
    findBySha,

    /**
     * Stores a statement and its entries in one transaction: all or nothing. The same file again
     * (sha256, per ente) writes nothing and returns created: false; entries seen before are skipped.
     */
    async insert(
      enteId: number,
      file: { fileName: string; sha256: string; statement: BankStatement; credits: readonly NewCredit[] },
      ctx: ChangeContext,
    ): Promise<InsertedStatement> {
      const before = await findBySha(enteId, file.sha256);
      if (before) return { created: false, statement: before, newCredits: 0, duplicates: 0 };
      try {
        const { id, newCredits } = await insertAll(enteId, file, ctx);
        const row = await db<StatementRow>('bank_statements').where({ id }).first();
        return {
          created: true,
          statement: toStatement(row as StatementRow),
          newCredits,
          duplicates: file.credits.length - newCredits,
        };
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        // Another instance imported the same file at the same moment.
        const stored = await findBySha(enteId, file.sha256);
        if (!stored) throw err;
        return { created: false, statement: stored, newCredits: 0, duplicates: 0 };
      }
    },

    /** The ente's incoming credits (CRDT), oldest value date first. */
    async listCredits(enteId: number): Promise<StoredCredit[]> {
      const rows = await creditQuery(db)
        .where({ 'c.ente_id': enteId, 'c.direction': 'CRDT' })
        .orderBy([{ column: 'c.value_date' }, { column: 'c.id' }]);
      return rows.map(toCredit);
    },

    /** Credits settling one flow row (as reconciliation linked them). */
    async listCreditsOfFlow(flowRowId: number): Promise<StoredCredit[]> {
      const rows = await creditQuery(db)
        .where({ 'c.matched_flow_row_id': flowRowId })
        .orderBy([{ column: 'c.value_date' }, { column: 'c.id' }]);
      return rows.map(toCredit);
    },

    /** Credits with a value date in [fromDate, toDate] that settle no stored flow. */
    async listUnmatchedCredits(
      enteId: number,
      range: { fromDate: string; toDate: string },
    ): Promise<StoredCredit[]> {
      const rows = await creditQuery(db)
        .where({ 'c.ente_id': enteId, 'c.direction': 'CRDT' })
        .whereNull('c.matched_flow_row_id')
        .andWhere('c.value_date', '>=', range.fromDate)
        .andWhere('c.value_date', '<=', range.toDate)
        .orderBy([{ column: 'c.value_date' }, { column: 'c.id' }]);
      return rows.map(toCredit);
    },

    /** Links credits to the flow they settle (null: none), as reconciliation decided. */
    async linkCredits(links: ReadonlyArray<{ creditId: number; flowRowId: number | null }>): Promise<void> {
      await inTransaction(db, async (trx) => {
        for (const link of links) {
          await trx('bank_credits')
            .where({ id: link.creditId })
            .update({ matched_flow_row_id: link.flowRowId });
        }
      });
    },

    async listStatements(enteId: number): Promise<StoredStatement[]> {
      const rows = await db<StatementRow>('bank_statements').where({ ente_id: enteId }).orderBy('id');
      return rows.map(toStatement);
    },
  };
}

export type BankStatementsRepository = ReturnType<typeof createBankStatementsRepository>;
