// Opening a claimed file with its reader. ppay CSV v1, the format of the large nightly files, is
// opened directly; every other format goes through detect.ts, loaded on first use only: it brings
// the XML (libxml2-wasm), workbook and zip readers, which add about 150 MB of resident memory when
// loaded through tsx, a cost a 100,000-row CSV import must not pay.

import { createReadStream } from 'node:fs';
import path from 'node:path';
import { parsePpayFileName } from '../fileNames.ts';
import type { ImportFormat } from '../formats/detect.ts';
import { PPAY_CSV_FORMAT, readPpayCsv } from '../formats/ppayCsv.ts';
import type { ImportFile } from '../formats/types.ts';

/** PPAY_XML_FORMAT of xmlFile.ts, not imported from there (it loads libxml2-wasm). */
export const PPAY_XML = 'ppay-xml-1';

export interface ReadOptions {
  format?: ImportFormat | undefined;
  /** The drop folder's ente. */
  enteFiscalCode: string;
  serviceCode?: string | undefined;
  expectCount?: number | undefined;
  expectTotalCents?: number | undefined;
  /**
   * XML inputs: the pinned certificate (PPAY_IMPORT_TRUSTED_CERT) whose enveloped signature they
   * must carry (F_SIGNATURE otherwise). Unset, they are read unsigned and a signature is ignored.
   */
  trustedCertificatePem?: string | undefined;
}

const detector = () => import('../formats/detect.ts');

/** A plain `.csv` that is ppay CSV v1 by its --format or by the ppay file name convention. */
function isPlainPpayCsv(fileName: string, format: ImportFormat | undefined): boolean {
  if (path.extname(fileName).toLowerCase() !== '.csv') return false;
  if (format !== undefined) return format === PPAY_CSV_FORMAT;
  return parsePpayFileName(fileName) !== null;
}

/**
 * Opens `filePath` (whose base name is the name the gestionale gave) with the reader of its
 * format: `options.format`, else what the name or the first row says. Throws FileFormatError for a
 * file-level problem found while opening (F_NAME for an unknown format, F_SCHEMA for XML...).
 */
export async function openImportInput(
  filePath: string,
  options: ReadOptions,
): Promise<{ file: ImportFile; format: ImportFormat }> {
  const fileName = path.basename(filePath);
  if (isPlainPpayCsv(fileName, options.format)) {
    const named = parsePpayFileName(fileName);
    const file = readPpayCsv(createReadStream(filePath), {
      expectCount: options.expectCount,
      expectTotalCents: options.expectTotalCents,
      header: {
        enteFiscalCode: options.enteFiscalCode,
        serviceCode: options.serviceCode,
        flowId: named?.flowId ?? path.basename(fileName, path.extname(fileName)),
      },
    });
    return { file, format: PPAY_CSV_FORMAT };
  }
  const { detectImportFormat, readerFor } = await detector();
  const format = await detectImportFormat(filePath, options.format);
  const file = await readerFor(format)(filePath, { ...options, format });
  return { file, format };
}

/** The ente a file name announces (ppay convention, PiemontePay LIDC_), if any. */
export async function enteOfFileName(fileName: string): Promise<string | undefined> {
  const ppay = parsePpayFileName(fileName);
  if (ppay) return ppay.enteFiscalCode;
  if (!/^LIDC_/i.test(fileName)) return undefined;
  return (await detector()).factsOfFileName(fileName)?.enteFiscalCode;
}

/** A `--format` value checked against the list of formats (INVALID_INPUT otherwise). */
export async function parseFormatName(value: string): Promise<ImportFormat> {
  return (await detector()).parseImportFormat(value);
}
