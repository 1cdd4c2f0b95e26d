// The portal's SVG charts and the pure parts of the reports: bar heights proportional to the
// amounts, an accessible summary and hidden table, escaped labels, no inline styles (the CSP forbids
// them); the report period's defaults and limits, Italian days folded from UTC hours across a DST
// change, CSV cells made inert for spreadsheets, and the CSV / .xlsx writers on in-memory pages.

import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { niceCeiling, perDayChart, perServiceChart } from '../../../src/portal/charts.ts';
import {
  csvChunks,
  daysOf,
  euroText,
  neutralise,
  parseReportRange,
  paymentLocal,
  paymentsPerDay,
  rangeOf,
  writeXlsx,
  type ReportDefinition,
} from '../../../src/app/portal/reports.ts';
import type { PortalReportsRepository } from '../../../src/db/repositories/portalReports.ts';

const SCRIPT = '<script>alert(1)</script>';

function heights(svg: string): number[] {
  return [...svg.matchAll(/<rect[^>]*height="([\d.]+)"/g)].map((m) => Number(m[1]));
}

describe('portal charts', () => {
  const days = [
    { date: '2026-10-01', count: 1, amountCents: 1_000 },
    { date: '2026-10-02', count: 0, amountCents: 0 },
    { date: '2026-10-03', count: 4, amountCents: 2_000 },
  ];

  it('draws one bar per day, heights proportional to the amounts, with totals on the figure', () => {
    const out = perDayChart(days).value;
    const [a, b, c] = heights(out);
    expect(b).to.equal(0);
    expect(c! / a!).to.be.closeTo(2, 0.01);
    expect(out).to.include('data-total-count="5"').and.include('data-total-cents="3000"');
    expect(out).to.include('<title>03/10/2026: 4 pagamenti, 20,00 €</title>');
    expect(out).to.include('<title>01/10/2026: 1 pagamento, 10,00 €</title>');
  });

  it('is an image with a summary for assistive technology and a hidden table of the same figures', () => {
    const out = perDayChart(days).value;
    expect(out).to.match(
      /<svg[^>]*role="img"[^>]*aria-label="Pagamenti per giorno dal 01\/10\/2026 al 03\/10\/2026: 5 pagamenti, totale 30,00 €"/,
    );
    expect(out).to.include('<table class="visually-hidden">');
    expect(out.match(/<th scope="row">/g)).to.have.length(3);
    expect(out).not.to.include('style=');
  });

  it('does not divide by zero on a period without payments', () => {
    const out = perDayChart([{ date: '2026-10-01', count: 0, amountCents: 0 }]).value;
    expect(heights(out)).to.deep.equal([0]);
    expect(out).not.to.include('NaN').and.not.include('Infinity');
    expect(perServiceChart([]).value).to.include('Nessun pagamento nel periodo');
  });

  it('escapes service labels, in the bars and in the table', () => {
    const out = perServiceChart([
      { label: SCRIPT, count: 2, amountCents: 5_000 },
      { label: 'TARI - Tassa rifiuti', count: 1, amountCents: 2_500 },
    ]).value;
    expect(out).not.to.include(SCRIPT);
    expect(out).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
    const widths = [...out.matchAll(/<rect[^>]*width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths[0]! / widths[1]!).to.be.closeTo(2, 0.01);
    expect(out).to.include('data-total-cents="7500"');
  });

  it('rounds the value axis up to 1, 2 or 5 times a power of ten', () => {
    expect([
      niceCeiling(0),
      niceCeiling(120),
      niceCeiling(1_234),
      niceCeiling(5_000),
      niceCeiling(7_001),
    ]).to.deep.equal([100, 200, 2_000, 5_000, 10_000]);
  });
});

describe('portal reports: period and cells', () => {
  const now = new Date('2026-11-27T03:00:00Z');

  it('defaults to the 30 Italian days ending today', () => {
    const parsed = parseReportRange('', '', now);
    expect(parsed).to.deep.include({ ok: true });
    if (!parsed.ok) return;
    expect(parsed.range).to.deep.equal({
      fromDate: '2026-10-29',
      toDate: '2026-11-27',
      fromIso: '2026-10-28T23:00:00.000Z',
      toIso: '2026-11-27T23:00:00.000Z',
    });
    expect(daysOf(parsed.range)).to.have.length(30);
  });

  it('takes up to 366 days and refuses longer, reversed or malformed periods', () => {
    expect(parseReportRange('2024-01-01', '2024-12-31', now).ok).to.equal(true);
    const long = parseReportRange('2024-01-01', '2025-01-01', now);
    expect(long).to.deep.include({ ok: false, error: 'Il periodo non può superare 366 giorni.' });
    expect(parseReportRange('2026-10-02', '2026-10-01', now)).to.deep.include({ ok: false });
    expect(parseReportRange('2026-02-30', '2026-03-01', now)).to.deep.include({ ok: false });
    expect(parseReportRange(SCRIPT, '', now)).to.deep.include({ ok: false });
  });

  it('makes formula-like text inert and writes euro with a decimal comma', () => {
    expect(['=1+1', '+39', '-2', '@SUM(A1)', '\tx', '\rx', 'Mario', ''].map(neutralise)).to.deep.equal([
      "'=1+1",
      "'+39",
      "'-2",
      "'@SUM(A1)",
      "'\tx",
      "'\rx",
      'Mario',
      '',
    ]);
    expect([euroText(0), euroText(5), euroText(1230), euroText(123456789)]).to.deep.equal([
      '0,00',
      '0,05',
      '12,30',
      '1234567,89',
    ]);
  });

  it("reads a receipt's payment time as Italian local time, converting one with an offset", () => {
    expect(paymentLocal('2026-10-05T00:29:00')).to.equal('2026-10-05 00:29:00');
    expect(paymentLocal('2026-10-04T22:29:00Z')).to.equal('2026-10-05 00:29:00');
    expect(paymentLocal('2026-12-04T22:29:00.000+00:00')).to.equal('2026-12-04 23:29:00');
    expect(paymentLocal(null)).to.equal(null);
  });

  it('folds UTC hours into Italian days across the end of summer time', async () => {
    const repo = {
      paymentsPerHour: async () => [
        { hour: '2026-10-24T21', count: 1, amountCents: 100 }, // 23:xx CEST on the 24th
        { hour: '2026-10-24T22', count: 1, amountCents: 200 }, // 00:xx CEST on the 25th
        { hour: '2026-10-25T22', count: 2, amountCents: 300 }, // 23:xx CET on the 25th
        { hour: '2026-10-25T23', count: 1, amountCents: 400 }, // 00:xx CET on the 26th
      ],
    } as unknown as PortalReportsRepository;
    const series = await paymentsPerDay(repo, [1], rangeOf('2026-10-24', '2026-10-26'));
    expect(series.days).to.deep.equal([
      { date: '2026-10-24', count: 1, amountCents: 100 },
      { date: '2026-10-25', count: 3, amountCents: 500 },
      { date: '2026-10-26', count: 1, amountCents: 400 },
    ]);
    expect(series).to.deep.include({ totalCount: 5, totalCents: 1_000 });
  });
});

describe('portal reports: writers', () => {
  interface Row {
    name: string;
    cents: number;
    at: string;
  }
  const definition: ReportDefinition<Row> = {
    kind: 'pagamenti',
    title: 'Prova',
    columns: [
      { header: 'Nome', type: 'text', value: (r) => r.name },
      { header: 'Importo (centesimi)', type: 'int', value: (r) => r.cents },
      { header: 'Importo (euro)', type: 'euro', value: (r) => r.cents },
      { header: 'Quando', type: 'datetime', value: (r) => r.at },
    ],
    pages: () => pages(),
  };
  const rows: Row[] = [
    { name: '=HYPERLINK("x")', cents: 1230, at: '2026-10-05 00:30:00' },
    { name: 'Riga\ncon a capo; e punto e virgola', cents: 5, at: '2026-10-06 12:00:00' },
  ];
  async function* pages(): AsyncGenerator<Row[]> {
    yield [rows[0]!];
    yield [];
    yield [rows[1]!];
  }

  it('writes a CSV with a BOM, a header, one record per row and no line break inside a value', async () => {
    let text = '';
    for await (const chunk of csvChunks(definition, pages())) text += chunk;
    expect(text.startsWith('\uFEFFNome;Importo (centesimi);Importo (euro);Quando\r\n')).to.equal(true);
    const records = parse(text, { delimiter: ';', bom: true }) as string[][];
    expect(records.slice(1)).to.deep.equal([
      [`'=HYPERLINK("x")`, '1230', '12,30', '2026-10-05 00:30:00'],
      ['Riga con a capo; e punto e virgola', '5', '0,05', '2026-10-06 12:00:00'],
    ]);
  });

  it('writes an .xlsx with numeric euro cells, date cells and text that is never a formula', async () => {
    const sink = new PassThrough();
    const chunks: Buffer[] = [];
    sink.on('data', (c: Buffer) => chunks.push(c));
    await writeXlsx(definition, pages(), sink);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(Buffer.concat(chunks) as unknown as ArrayBuffer);
    const sheet = workbook.getWorksheet('Prova')!;
    expect(sheet.rowCount).to.equal(3);
    const first = sheet.getRow(2);
    expect(first.getCell(1).type).to.equal(ExcelJS.ValueType.String);
    expect(first.getCell(1).value).to.equal('=HYPERLINK("x")');
    expect(first.getCell(3).value).to.equal(12.3);
    expect(first.getCell(3).numFmt).to.equal('#,##0.00');
    expect((first.getCell(4).value as Date).toISOString()).to.equal('2026-10-05T00:30:00.000Z');
  });
});
