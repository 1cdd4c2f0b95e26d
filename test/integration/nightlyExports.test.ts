// The nightly exports into each ente's out/ folder on every database of the matrix: positions made
// with createPosition, receipts stored by receiveReceipt (the paSendRT use case) and reserved multe
// notices expired by the notifyExpiredNotices job, each at a chosen instant. Checked: which
// receipts fall in an Italian day (its bounds are 23:00Z the evening before, in winter), the
// columns of both files, the expired-notice reasons, header-only files for a quiet ente, a re-run
// replacing a file whole, and the exports run as scheduled jobs covering the day before their slot.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { forEachDatabase, seedEnte, type SeededEnte } from '../support/db.ts';
import { expectRejection } from './helpers.ts';
import type { Store } from '../../src/db/store.ts';
import type { StoredPosition } from '../../src/db/repositories/positions.ts';
import type { AmountCents } from '../../src/domain/money.ts';
import type { PaymentOptionDraft } from '../../src/domain/position.ts';
import { createPosition } from '../../src/app/positions.ts';
import { receiveReceipt } from '../../src/app/pagopa/receipts.ts';
import { reserveNotices } from '../../src/app/gestionale/reserveNotices.ts';
import { reportExpiredReservations } from '../../src/app/gestionale/expiredReservations.ts';
import { exportPaymentsOfTheDay, PAYMENTS_EXPORT_COLUMNS } from '../../src/batch/exports/payments.ts';
import {
  EXPIRED_NOTICES_EXPORT_COLUMNS,
  exportExpiredNotices,
} from '../../src/batch/exports/expiredNotices.ts';
import { romeDayRange } from '../../src/batch/exports/common.ts';
import { exportDayFor, scheduledJobs } from '../../src/batch/jobs.ts';
import { JobScheduler } from '../../src/batch/scheduler.ts';
import { resolveJobSchedule, SCHEDULED_JOB_NAMES } from '../../src/batch/schedule.ts';

const DAY = '2026-11-25';
const DEBTOR = { type: 'F' as const, fiscalCode: 'RSSMRA85T10A562S', fullName: 'Mario Rossi' };
const PAYER = { fiscalCode: 'VRDLGU80A01L219K', fullName: 'Luigi Verdi' };

let sequence = 0;
const uid = (prefix: string) => `${prefix}-${process.pid}-${++sequence}`;

/** A paSendRT receipt with the PSP and payer facts the payments export reads. */
function receiptDocument(receiptId: string): string {
  return (
    `<receipt><receiptId>${receiptId}</receiptId><PSPCompanyName>Banca di Prova S.p.A.</PSPCompanyName>` +
    `<payer><uniqueIdentifier><entityUniqueIdentifierType>F</entityUniqueIdentifierType>` +
    `<entityUniqueIdentifierValue>${PAYER.fiscalCode}</entityUniqueIdentifierValue></uniqueIdentifier>` +
    `<fullName>${PAYER.fullName}</fullName></payer>` +
    `<paymentMethod>creditCard</paymentMethod><fee>1.50</fee></receipt>`
  );
}

type CsvRow = Record<string, string>;

forEachDatabase('nightly exports', (ctx) => {
  let dataDir: string;
  let seeded: SeededEnte;
  let quiet: SeededEnte;
  const positions: Record<string, StoredPosition> = {};
  const receiptIds: Record<string, string> = {};
  const reserved: string[] = [];

  /** The store as it is at an instant: every row it writes carries that time. */
  const at = (instant: string): Store => ctx.storeWith({ clock: () => new Date(instant) });

  function option(installment: number, amountCents: number, dueDate: string): PaymentOptionDraft {
    return {
      installment,
      amountCents,
      dueDate,
      transfers: [{ amountCents, iban: seeded.ente.iban!, category: '9/0101108TS/' }],
    };
  }

  async function position(name: string, options: PaymentOptionDraft[]): Promise<StoredPosition> {
    const stored = await createPosition(at('2026-11-20T10:00:00Z'), {
      enteFiscalCode: seeded.ente.fiscalCode,
      serviceCode: seeded.service.code,
      actor: 'mocha',
      cause: 'test',
      draft: { positionId: uid(name), description: 'TARI 2026', debtor: DEBTOR, options },
    });
    positions[name] = stored;
    return stored;
  }

  async function receive(
    instant: string,
    target: { iuv: string; noticeNumber: string | null; amountCents: number },
    outcome: 'OK' | 'KO' = 'OK',
  ): Promise<string> {
    const receiptId = uid('rcpt').replace(/-/g, '');
    await receiveReceipt(at(instant), {
      source: 'paSendRT',
      caller: {
        enteFiscalCode: seeded.ente.fiscalCode,
        brokerFiscalCode: seeded.broker.fiscalCode,
        stationId: seeded.station.stationId,
      },
      creditorFiscalCode: seeded.ente.fiscalCode,
      iuv: target.iuv,
      receiptId,
      noticeNumber: target.noticeNumber,
      outcome,
      amountCents: target.amountCents as AmountCents,
      paymentDateTime: '2026-11-25T00:29:00',
      pspId: 'TESTPSP01',
      document: receiptDocument(receiptId),
    });
    return receiptId;
  }

  const optionOf = (name: string, installment = 0) =>
    positions[name]!.options.find((o) => o.installment === installment)!;

  function outFile(ente: string, kind: 'PAGATI' | 'SCADUTI', day = DAY): string {
    return path.join(dataDir, 'sftp', ente, 'out', `${ente}_${kind}_${day.replace(/-/g, '')}_ppay-1.csv`);
  }

  function readCsv(file: string): { header: string; rows: CsvRow[] } {
    const text = readFileSync(file, 'utf8');
    expect(text.endsWith('\r\n'), 'CRLF line ends, the last line terminated').to.equal(true);
    const header = text.split('\r\n')[0]!;
    return { header, rows: parse(text, { delimiter: ';', columns: true }) as CsvRow[] };
  }

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'ppay-exports-'));
    seeded = await seedEnte(ctx.store);
    quiet = await seedEnte(ctx.store);
    await position('paidAtDawn', [option(0, 12_300, DAY)]);
    await position('plan', [option(0, 3000, DAY), option(1, 1500, DAY), option(2, 1500, '2026-12-25')]);
    await position('unpaid', [option(0, 4500, DAY)]);
    await position('cancelled', [option(0, 700, DAY)]);
    await position('paidLate', [option(0, 800, '2026-12-31')]);
    await position('paidBefore', [option(0, 900, '2026-12-31')]);
    await at('2026-11-21T10:00:00Z').positions.cancel(positions.cancelled!.id, {
      cause: 'test',
      actor: 'mocha',
    });

    // 23:59:59 on the 24th in Rome: the day before.
    receiptIds.before = await receive('2026-11-24T22:59:59Z', optionOf('paidBefore'));
    // 00:30 on the 25th in Rome, still the 24th in UTC.
    receiptIds.dawn = await receive('2026-11-24T23:30:00Z', optionOf('paidAtDawn'));
    receiptIds.installment = await receive('2026-11-25T12:00:00Z', optionOf('plan', 1));
    receiptIds.ko = await receive('2026-11-25T15:00:00Z', optionOf('unpaid'), 'KO');
    receiptIds.unknown = await receive('2026-11-25T16:00:00Z', {
      iuv: '01999999999999999',
      noticeNumber: '301999999999999999',
      amountCents: 100,
    });
    // 00:30 on the 26th in Rome, still the 25th in UTC: the next day.
    receiptIds.late = await receive('2026-11-25T23:30:00Z', optionOf('paidLate'));

    const caller = { clientId: null, actor: 'mocha', serviceIds: [seeded.service.id] };
    const notices = await reserveNotices(at('2026-10-01T08:00:00Z'), {
      ente: seeded.ente,
      service: seeded.service,
      caller,
      count: 2,
    });
    reserved.push(...notices.map((n) => n.noticeNumber));
    const expiry = '2026-11-25T02:00:00Z';
    const report = await reportExpiredReservations(at(expiry), { olderThanDays: 30, now: new Date(expiry) });
    expect(report).to.deep.include({ status: 'DONE', expired: 2 });
  });

  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('takes the Italian day from 23:00Z the evening before in winter, 22:00Z in summer', () => {
    expect(romeDayRange(DAY)).to.deep.equal({
      fromIso: '2026-11-24T23:00:00.000Z',
      toIso: '2026-11-25T23:00:00.000Z',
    });
    expect(romeDayRange('2026-07-01')).to.deep.equal({
      fromIso: '2026-06-30T22:00:00.000Z',
      toIso: '2026-07-01T22:00:00.000Z',
    });
    // The spring-forward day is 23 hours long.
    const spring = romeDayRange('2026-03-29');
    expect(Date.parse(spring.toIso) - Date.parse(spring.fromIso)).to.equal(23 * 3600_000);
  });

  it('writes one row per receipt received that Italian day, KO and flagged ones included', async () => {
    const result = await exportPaymentsOfTheDay({
      store: ctx.store,
      dataDir,
      date: DAY,
      enteFiscalCode: seeded.ente.fiscalCode,
    });
    const file = outFile(seeded.ente.fiscalCode, 'PAGATI');
    expect(result).to.deep.equal({
      kind: 'PAGATI',
      date: DAY,
      files: [
        {
          enteFiscalCode: seeded.ente.fiscalCode,
          fileName: path.basename(file),
          location: `${path.join(dataDir, 'sftp', seeded.ente.fiscalCode)}/out/${path.basename(file)}`,
          rows: 4,
        },
      ],
    });
    const { header, rows } = readCsv(file);
    expect(header).to.equal(PAYMENTS_EXPORT_COLUMNS.join(';'));
    expect(rows.map((r) => r.receipt_id)).to.deep.equal([
      receiptIds.dawn,
      receiptIds.installment,
      receiptIds.ko,
      receiptIds.unknown,
    ]);
    const dawn = optionOf('paidAtDawn');
    expect(rows[0]).to.deep.equal({
      position_id: positions.paidAtDawn!.positionId,
      service_code: seeded.service.code,
      installment_no: '0',
      iuv: dawn.iuv,
      notice_number: dawn.noticeNumber,
      amount_cents: '12300',
      payment_date: '2026-11-25',
      payment_date_time: '2026-11-25T00:29:00',
      psp_id: 'TESTPSP01',
      psp_name: 'Banca di Prova S.p.A.',
      receipt_id: receiptIds.dawn,
      outcome: 'OK',
      payer_type: 'F',
      payer_fiscal_code: PAYER.fiscalCode,
      payer_name: PAYER.fullName,
      debtor_fiscal_code: DEBTOR.fiscalCode,
      payment_method: 'creditCard',
      fee_cents: '150',
      source: 'paSendRT',
      received_at: '2026-11-24T23:30:00.000Z',
      flagged_reason: '',
    });
    expect(rows[1]).to.include({
      position_id: positions.plan!.positionId,
      installment_no: '1',
      amount_cents: '1500',
      outcome: 'OK',
    });
    expect(rows[2]).to.include({
      position_id: positions.unpaid!.positionId,
      outcome: 'KO',
      flagged_reason: 'NEGATIVE_OUTCOME',
    });
    expect(rows[3]).to.include({
      position_id: '',
      service_code: '',
      installment_no: '',
      iuv: '01999999999999999',
      flagged_reason: 'UNKNOWN_POSITION',
    });
  });

  it('lists notices given up that day (NOT_ACTIVATED) and unpaid options due that day (PAST_DUE)', async () => {
    const result = await exportExpiredNotices({
      store: ctx.store,
      dataDir,
      date: DAY,
      enteFiscalCode: seeded.ente.fiscalCode,
    });
    expect(result.files.map((f) => [f.fileName, f.rows])).to.deep.equal([
      [path.basename(outFile(seeded.ente.fiscalCode, 'SCADUTI')), 3],
    ]);
    const { header, rows } = readCsv(outFile(seeded.ente.fiscalCode, 'SCADUTI'));
    expect(header).to.equal(EXPIRED_NOTICES_EXPORT_COLUMNS.join(';'));
    // Not listed: the paid option, the cancelled position, and the plan's single payment (an
    // installment is paid, so it can no longer be paid) and its later installment.
    expect(rows.map((r) => [r.reason, r.notice_number])).to.deep.equal([
      ['NOT_ACTIVATED', reserved[0]],
      ['NOT_ACTIVATED', reserved[1]],
      ['PAST_DUE', optionOf('unpaid').noticeNumber],
    ]);
    expect(rows[0]).to.include({ position_status: 'EXPIRED', expired_at: '2026-11-25T02:00:00.000Z' });
    expect(rows[2]).to.deep.equal({
      reason: 'PAST_DUE',
      position_id: positions.unpaid!.positionId,
      service_code: seeded.service.code,
      installment_no: '0',
      iuv: optionOf('unpaid').iuv,
      notice_number: optionOf('unpaid').noticeNumber,
      amount_cents: '4500',
      due_date: DAY,
      position_status: 'VALID',
      debtor_type: 'F',
      debtor_fiscal_code: DEBTOR.fiscalCode,
      debtor_name: DEBTOR.fullName,
      expired_at: '',
    });
  });

  it('gives every active ente its files, header-only when it had nothing that day', async () => {
    const payments = await exportPaymentsOfTheDay({ store: ctx.store, dataDir, date: DAY });
    const expired = await exportExpiredNotices({ store: ctx.store, dataDir, date: DAY });
    const quietCf = quiet.ente.fiscalCode;
    expect(payments.files.find((f) => f.enteFiscalCode === quietCf)?.rows).to.equal(0);
    expect(expired.files.find((f) => f.enteFiscalCode === quietCf)?.rows).to.equal(0);
    expect(readFileSync(outFile(quietCf, 'PAGATI'), 'utf8')).to.equal(
      `${PAYMENTS_EXPORT_COLUMNS.join(';')}\r\n`,
    );
    expect(readFileSync(outFile(quietCf, 'SCADUTI'), 'utf8')).to.equal(
      `${EXPIRED_NOTICES_EXPORT_COLUMNS.join(';')}\r\n`,
    );
    expect(payments.files.find((f) => f.enteFiscalCode === seeded.ente.fiscalCode)?.rows).to.equal(4);
  });

  it('replaces the file whole when the day is exported again, leaving no partial file', async () => {
    const first = readCsv(outFile(seeded.ente.fiscalCode, 'PAGATI')).rows;
    const latecomer = await receive('2026-11-25T20:00:00Z', optionOf('unpaid'));
    await exportPaymentsOfTheDay({
      store: ctx.store,
      dataDir,
      date: DAY,
      enteFiscalCode: seeded.ente.fiscalCode,
    });
    const second = readCsv(outFile(seeded.ente.fiscalCode, 'PAGATI')).rows;
    expect(second.map((r) => r.receipt_id)).to.deep.equal([...first.map((r) => r.receipt_id), latecomer]);
    const out = readdirSync(path.dirname(outFile(seeded.ente.fiscalCode, 'PAGATI')));
    expect(out.filter((name) => name.endsWith('.part'))).to.deep.equal([]);
    // Now paid, the option is no longer expired.
    await exportExpiredNotices({
      store: ctx.store,
      dataDir,
      date: DAY,
      enteFiscalCode: seeded.ente.fiscalCode,
    });
    const expired = readCsv(outFile(seeded.ente.fiscalCode, 'SCADUTI')).rows;
    expect(expired.map((r) => r.reason)).to.deep.equal(['NOT_ACTIVATED', 'NOT_ACTIVATED']);
  });

  it('refuses an unknown ente and a date that is not a day', async () => {
    await expectRejection(
      exportPaymentsOfTheDay({ store: ctx.store, dataDir, date: DAY, enteFiscalCode: '00000000000' }),
      'ENTE_UNKNOWN',
    );
    await expectRejection(
      exportExpiredNotices({ store: ctx.store, dataDir, date: '2026-02-30' }),
      'INVALID_DATE',
    );
  });

  it('runs as scheduled jobs beside the reconciliation export, each covering the day before its slot', async () => {
    const catalogue = scheduledJobs({
      nightly: {
        reservationMaxDays: 30,
        reconciliation: { dataDir, receiptFlowDays: 3, flowCreditDays: 2, node: () => null },
      },
      dataDir,
    });
    expect(catalogue.map((j) => j.name)).to.deep.equal([...SCHEDULED_JOB_NAMES]);
    expect(exportDayFor(new Date('2026-11-26T01:00:00Z'))).to.equal(DAY);
    // Only the payments export is on; its 02:00 slot of the 26th covers the 25th.
    const schedule = resolveJobSchedule(
      'notifyExpiredNotices=off;reconcile=off;reconciliationExport=off;expiredNoticesExport=off',
      2,
    );
    rmSync(outFile(seeded.ente.fiscalCode, 'PAGATI'));
    const now = new Date('2026-11-26T01:05:00Z');
    const scheduler = new JobScheduler({
      store: ctx.storeWith({ clock: () => now }),
      jobs: catalogue,
      schedule,
    });
    const ran = await scheduler.tick(now);
    expect(ran).to.deep.equal([
      { job: 'paymentsExport', scheduledAt: '2026-11-26T01:00:00.000Z', status: 'done', attempt: 1 },
    ]);
    expect(readCsv(outFile(seeded.ente.fiscalCode, 'PAGATI')).rows).to.have.length(5);
    const [run] = await ctx.store.jobRuns.listScheduled('paymentsExport');
    expect(run).to.include({ status: 'done', attempts: 1, scheduledAt: '2026-11-26T01:00:00.000Z' });
    expect(JSON.parse(run!.summary!)).to.include({ kind: 'PAGATI', date: DAY });
    expect(await scheduler.tick(new Date('2026-11-26T09:00:00Z'))).to.deep.equal([]);
  });
});
