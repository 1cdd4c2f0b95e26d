// The binary inputs of the hostile file corpus (fixtures/hostile/files/README.md), built on demand
// instead of committed: zip bombs (a small zip that expands to gigabytes, honest or lying about its
// size), zips with path-traversal entries, an .xlsx that is no zip, an .xlsx with a huge
// sharedStrings part, an .xlsx with formulas in its cells. A hand-rolled zip writer, because yazl
// refuses the entry names (`../evil.csv`) and the size lies these cases need.
//
//   npx tsx scripts/hostile-files.ts <folder>    writes every generated input into <folder>

import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';

export interface ZipEntry {
  /** Written as given: `../evil.csv`, `/abs.csv` and `a\b.csv` included. */
  name: string;
  /** The uncompressed content (for small entries). */
  content?: Buffer | string;
  /** A prebuilt raw-deflate body with its real size and CRC (for bombs). */
  deflated?: { body: Buffer; size: number; crc: number };
  /** Size written in the headers instead of the real one (a lying entry). */
  declaredSize?: number;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/** A zip file (deflated entries, no zip64): local headers, then the central directory. */
export function buildZip(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    let body: Buffer;
    let size: number;
    let crc: number;
    if (entry.deflated) {
      ({ body, size, crc } = entry.deflated);
    } else {
      const content = Buffer.from(entry.content ?? '');
      body = zlib.deflateRawSync(content);
      size = content.length;
      crc = zlib.crc32(content);
    }
    const declared = entry.declaredSize ?? size;
    // version 20, flags: bit 11 (UTF-8 names), method 8 (deflate), time/date fixed.
    const common = Buffer.concat([
      u16(20),
      u16(0x0800),
      u16(8),
      u16(0),
      u16(0x21),
      u32(crc),
      u32(body.length),
      u32(declared),
      u16(name.length),
    ]);
    const local = Buffer.concat([u32(0x04034b50), common, u16(0), name]);
    central.push(
      Buffer.concat([
        u32(0x02014b50),
        u16(20),
        common,
        u16(0),
        u16(0),
        u16(0),
        u16(0),
        u32(0),
        u32(offset),
        name,
      ]),
    );
    locals.push(local, body);
    offset += local.length + body.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.concat([
    u32(0x06054b50),
    u16(0),
    u16(0),
    u16(entries.length),
    u16(entries.length),
    u32(directory.length),
    u32(offset),
    u16(0),
  ]);
  return Buffer.concat([...locals, directory, end]);
}

/**
 * A raw-deflate body expanding to `megabytes` MiB of `unit` repeated (a full flush resets the
 * history, so the compressed MiB is the same bytes every time: ~1 KB per MiB for a short unit).
 * The CRC-32 is computed only when asked (seconds per GiB): neither yauzl nor unzipper checks it,
 * and every reader must refuse a bomb before its end anyway.
 */
export function repeatedDeflate(
  unit: string,
  megabytes: number,
  withCrc = false,
): { body: Buffer; size: number; crc: number } {
  const mib = 1024 * 1024;
  const block = Buffer.alloc(mib, unit);
  const compressed = zlib.deflateRawSync(block, { finishFlush: zlib.constants.Z_FULL_FLUSH });
  const parts: Buffer[] = [];
  let crc = 0;
  for (let i = 0; i < megabytes; i++) {
    parts.push(compressed);
    if (withCrc) crc = zlib.crc32(block, crc);
  }
  // A final empty stored block ends the stream.
  parts.push(Buffer.from([0x03, 0x00]));
  return { body: Buffer.concat(parts), size: megabytes * mib, crc };
}

/** A zip of one entry that expands to `megabytes` MiB; `lie` declares 1 KiB instead. */
export function zipBomb(
  entryName: string,
  megabytes: number,
  options: { unit?: string; lie?: boolean } = {},
) {
  const deflated = repeatedDeflate(options.unit ?? '\n', megabytes);
  return buildZip([{ name: entryName, deflated, ...(options.lie ? { declaredSize: 1024 } : {}) }]);
}

// ---------------------------------------------------------------------------------------------
// Workbooks
// ---------------------------------------------------------------------------------------------

const CONTENT_TYPES = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`;
const ROOT_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`;
const WORKBOOK = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Posizioni" sheetId="1" r:id="rId1"/></sheets></workbook>`;
const WORKBOOK_RELS = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`;

function sheetXml(rows: string): string {
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${rows}</sheetData></worksheet>`;
}

function workbookZip(sheet: string, sharedStrings: ZipEntry): Buffer {
  return buildZip([
    { name: '[Content_Types].xml', content: CONTENT_TYPES },
    { name: '_rels/.rels', content: ROOT_RELS },
    { name: 'xl/workbook.xml', content: WORKBOOK },
    { name: 'xl/_rels/workbook.xml.rels', content: WORKBOOK_RELS },
    { name: 'xl/worksheets/sheet1.xml', content: sheet },
    sharedStrings,
  ]);
}

function inlineCell(ref: string, text: string): string {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<c r="${ref}" t="inlineStr"><is><t>${escaped}</t></is></c>`;
}

const COLUMN_LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function rowXml(number: number, cells: readonly string[]): string {
  return `<row r="${number}">${cells.map((c, i) => inlineCell(`${COLUMN_LETTERS[i]}${number}`, c)).join('')}</row>`;
}

/** The minimal ppay template columns a valid row needs, in this order. */
export const TEMPLATE_COLUMNS = [
  'action',
  'position_id',
  'service_code',
  'description',
  'debtor_type',
  'debtor_fiscal_code',
  'debtor_name',
  'due_date',
  'amount_cents',
] as const;

/**
 * An .xlsx whose sharedStrings part expands to `megabytes` MiB (a few KB on disk): one `<si>` of
 * filler repeated, the sheet itself one header row. `lie` declares 1 KiB for the part.
 */
export function xlsxHugeSharedStrings(megabytes: number, options: { lie?: boolean } = {}): Buffer {
  const head = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`;
  // The filler must be whole <si> elements: 64 bytes each, so a MiB holds 16,384 of them.
  const unit = '<si><t>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA</t></si>';
  const body = repeatedDeflate(unit, megabytes);
  // head + filler + tail as three deflate segments: head and tail full-flushed on their own.
  const headPart = zlib.deflateRawSync(Buffer.from(head), { finishFlush: zlib.constants.Z_FULL_FLUSH });
  const tail = Buffer.from('</sst>');
  const tailPart = zlib.deflateRawSync(tail);
  const fillerBody = body.body.subarray(0, body.body.length - 2);
  const crc = 0;
  const size = head.length + body.size + tail.length;
  const shared: ZipEntry = {
    name: 'xl/sharedStrings.xml',
    deflated: { body: Buffer.concat([headPart, fillerBody, tailPart]), size, crc },
    ...(options.lie ? { declaredSize: 1024 } : {}),
  };
  return workbookZip(sheetXml(rowXml(1, TEMPLATE_COLUMNS)), shared);
}

/**
 * An .xlsx whose data cells hold formulas (`<f>`) with cached results: the reader must take the
 * result as plain text, never evaluate or keep the formula. Row 2's id is a formula whose cached
 * value is `=cmd|' /C calc'!A0`.
 */
export function xlsxWithFormulas(positionIds: readonly [string, string]): Buffer {
  const header = rowXml(1, TEMPLATE_COLUMNS);
  const values = (id: string) => ['I', id, 'TARI', 'TARI', 'F', 'RSSMRA80A01H501U', 'Rossi', '2030-04-30'];
  const formulaRow = (n: number, id: string, formula: string, cached: string) =>
    `<row r="${n}">${values(id)
      .map((v, i) => inlineCell(`${COLUMN_LETTERS[i]}${n}`, v))
      .join('')}<c r="I${n}"><f>${formula}</f><v>${cached}</v></c></row>`;
  const rows = [
    header,
    formulaRow(2, positionIds[0], 'SUM(500,500)', '1000'),
    // The id cell itself: a string formula whose cached value looks like a DDE payload.
    `<row r="3"><c r="A3" t="inlineStr"><is><t>I</t></is></c><c r="B3" t="str"><f>CONCATENATE("=cmd|","' /C calc'!A0")</f><v>=cmd|' /C calc'!A0</v></c>${values(
      positionIds[1],
    )
      .slice(2)
      .map((v, i) => inlineCell(`${COLUMN_LETTERS[i + 2]}3`, v))
      .join('')}<c r="I3"><f>HYPERLINK("http://evil.example","1000")</f><v>1000</v></c></row>`,
  ];
  return workbookZip(sheetXml(rows.join('')), {
    name: 'xl/sharedStrings.xml',
    content:
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"></sst>',
  });
}

/** Every generated input by the name the corpus (cases.json `generate`) gives it. */
export const GENERATORS: Readonly<Record<string, (baseName: string) => Buffer>> = {
  // 4 GiB - 1 MiB of newlines, honestly declared (~4 MB on disk).
  'zip-bomb-honest': (base) => zipBomb(`${base}.csv`, 4095),
  // 3 GiB of newlines declared as 1 KiB: the size check alone would let it through.
  'zip-bomb-lying': (base) => zipBomb(`${base}.csv`, 3072, { lie: true }),
  // 1 GiB of a header-looking text without a newline: one endless line.
  'zip-bomb-one-line': (base) => zipBomb(`${base}.csv`, 1024, { unit: 'action;position_id;' }),
  'zip-traversal': (base) =>
    buildZip([
      { name: '../evil.csv', content: 'action;position_id\nI;EVIL\n' },
      { name: '/tmp/ppay-hostile-abs.csv', content: 'action;position_id\nI;EVIL\n' },
      { name: `../${base}.csv`, content: 'action;position_id\nI;EVIL\n' },
    ]),
  'zip-not-a-zip': () => Buffer.from('PK\x03\x04 this is not really a zip archive\n'),
  'xlsx-not-a-zip': () => Buffer.from('action;position_id;service_code\nI;X;TARI\n'),
  'xlsx-truncated': (base) => GENERATORS['xlsx-formulas']!(base).subarray(0, 300),
  'xlsx-huge-shared-strings': () => xlsxHugeSharedStrings(2048),
  'xlsx-huge-shared-strings-lying': () => xlsxHugeSharedStrings(2048, { lie: true }),
  'xlsx-formulas': () => xlsxWithFormulas(['XLSX-F-1', 'XLSX-F-2']),
  // A row whose description is 70,000 characters: over the 64 KiB line cap.
  'csv-long-line': () =>
    Buffer.from(
      `action;position_id;service_code;description;debtor_type;debtor_fiscal_code;debtor_name;due_date;amount_cents\n` +
        `I;LONG1;TARI;${'x'.repeat(70_000)};F;RSSMRA80A01H501U;Rossi;2030-04-30;1000\n`,
    ),
  // A header of 70,000 empty columns.
  'csv-wide-header': () => Buffer.from(`action;position_id${';'.repeat(70_000)}\nI;W1\n`),
  // 100,000 nested elements inside the root.
  'xml-deep': () =>
    Buffer.from(
      `<?xml version="1.0" encoding="UTF-8"?>\n<fl:debtPositionsFile xmlns:fl="http://ppay-connector.it/flows/v1">` +
        `${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</fl:debtPositionsFile>\n`,
    ),
  // 9 MiB: a comment filling the file past the 8 MiB cap of XML inputs.
  'xml-oversized': () =>
    Buffer.from(
      `<?xml version="1.0" encoding="UTF-8"?>\n<!--${'x'.repeat(9 * 1024 * 1024)}-->\n` +
        `<fl:debtPositionsFile xmlns:fl="http://ppay-connector.it/flows/v1"/>\n`,
    ),
};

function main(folder: string): void {
  mkdirSync(folder, { recursive: true });
  for (const [name, build] of Object.entries(GENERATORS)) {
    const ext = name.startsWith('xlsx') ? 'xlsx' : 'zip';
    const file = path.join(folder, `${name}.${ext}`);
    writeFileSync(file, build(name));
    console.log(`wrote ${file}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const folder = process.argv[2];
  if (!folder) {
    console.error('usage: npx tsx scripts/hostile-files.ts <folder>');
    process.exitCode = 2;
  } else {
    main(folder);
  }
}
