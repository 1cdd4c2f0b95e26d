// Writes large valid ppay CSV v1 files for load and memory tests (the 100,000-row import acceptance,
// the reader's streaming test): deterministic content, one row at a time with backpressure, so
// writing a huge file takes no more memory than a small one.

import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { PPAY_CSV_DELIMITER } from './ppayCsv.ts';

export interface GenerateOptions {
  /** Exact number of data rows. */
  rows: number;
  serviceCode?: string;
  /** Position ids are `<prefix><n>`, n from 1, zero-padded to 7 digits. */
  positionIdPrefix?: string;
  /** Every `planEvery`-th position is a 3-installment plan (when enough rows remain); 0 = never. */
  planEvery?: number;
  /** First due date (YYYY-MM-DD) of every position. */
  dueDate?: string;
}

export interface GeneratedSummary {
  rows: number;
  positions: number;
  totalCents: number;
}

export const GENERATED_COLUMNS = [
  'action',
  'position_id',
  'service_code',
  'description',
  'debtor_type',
  'debtor_fiscal_code',
  'debtor_name',
  'debtor_first_name',
  'debtor_email',
  'installment_no',
  'installment_label',
  'due_date',
  'amount_cents',
] as const;

/** Valid fiscal codes taken in turn. */
const DEBTORS = [
  { type: 'F', fiscalCode: 'RSSMRA80A01H501U', name: 'Rossi', firstName: 'Mario' },
  { type: 'F', fiscalCode: 'VRDLGU75C41L219T', name: 'Verdi', firstName: 'Luigia' },
  { type: 'G', fiscalCode: '12345678903', name: 'ACME S.r.l.', firstName: '' },
] as const;

const PLAN_DUE_DATES = ['2024-04-30', '2024-07-31', '2024-10-31'];

function rowsOf(n: number, rowsLeft: number, options: Required<Omit<GenerateOptions, 'rows'>>): string[][] {
  const debtor = DEBTORS[n % DEBTORS.length] as (typeof DEBTORS)[number];
  const positionId = `${options.positionIdPrefix}${String(n).padStart(7, '0')}`;
  const plan = options.planEvery > 0 && n % options.planEvery === 0 && rowsLeft >= 3;
  const amount = 1000 + ((n * 37) % 90000);
  const common = (description: string) => [
    'I',
    positionId,
    options.serviceCode,
    description,
    debtor.type,
    debtor.fiscalCode,
    debtor.name,
    debtor.firstName,
    `user${n}@example.it`,
  ];
  if (!plan) return [[...common(`Generated position ${n}`), '0', '', options.dueDate, String(amount)]];
  return PLAN_DUE_DATES.map((due, k) => [
    ...common(`Generated plan ${n}`),
    String(k + 1),
    `rata ${k + 1} di 3`,
    due,
    String(amount),
  ]);
}

/** Writes a header and exactly `rows` valid rows to `out` (not ended), honouring backpressure. */
export async function generatePpayCsv(out: Writable, options: GenerateOptions): Promise<GeneratedSummary> {
  const settings = {
    serviceCode: options.serviceCode ?? 'TARI',
    positionIdPrefix: options.positionIdPrefix ?? 'GEN-',
    planEvery: options.planEvery ?? 10,
    dueDate: options.dueDate ?? '2024-04-30',
  };
  const write = async (fields: readonly string[]) => {
    if (!out.write(`${fields.join(PPAY_CSV_DELIMITER)}\n`)) await once(out, 'drain');
  };
  await write(GENERATED_COLUMNS);
  const summary: GeneratedSummary = { rows: 0, positions: 0, totalCents: 0 };
  while (summary.rows < options.rows) {
    summary.positions += 1;
    for (const row of rowsOf(summary.positions, options.rows - summary.rows, settings)) {
      await write(row);
      summary.rows += 1;
      summary.totalCents += Number(row[row.length - 1]);
    }
  }
  return summary;
}
