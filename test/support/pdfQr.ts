// Reads the QR code printed on a PDF page for real: poppler's pdftoppm renders the page to a PNG
// (150 dpi), pngjs decodes it and jsQR finds and decodes the QR code. Shared by the notice tests
// and the browser tests, which check that a notice's QR decodes to its PAGOPA|002|... string.

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';

const run = promisify(execFile);

// jsqr is CommonJS typed as an ES default export: under NodeNext the function may sit on `.default`.
type JsQr = typeof jsQRModule.default;
const jsQR: JsQr = (jsQRModule as unknown as { default?: JsQr }).default ?? (jsQRModule as unknown as JsQr);
export const PDFTOPPM = '/usr/bin/pdftoppm';

/** One page (1-based) of a PDF as a decoded PNG. */
export async function renderPdfPage(pdf: Buffer, page = 1, dpi = 150): Promise<PNG> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ppay-pdfqr-'));
  try {
    const input = path.join(dir, 'in.pdf');
    await writeFile(input, pdf);
    const pageArg = String(page);
    await run(PDFTOPPM, [
      '-r',
      String(dpi),
      '-png',
      '-f',
      pageArg,
      '-l',
      pageArg,
      input,
      path.join(dir, 'page'),
    ]);
    const [file] = (await readdir(dir)).filter((f) => f.startsWith('page') && f.endsWith('.png'));
    if (!file) throw new Error(`pdftoppm rendered no page ${page}`);
    return PNG.sync.read(await readFile(path.join(dir, file)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The text of the QR code on that page of the PDF, or null when none is found. */
export async function decodePdfQr(pdf: Buffer, page = 1): Promise<string | null> {
  const png = await renderPdfPage(pdf, page);
  const pixels = new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength);
  return jsQR(pixels, png.width, png.height)?.data ?? null;
}

/** The number of pages of a PDF, as poppler counts them. */
export async function pdfPageCount(pdf: Buffer): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ppay-pdfinfo-'));
  try {
    const input = path.join(dir, 'in.pdf');
    await writeFile(input, pdf);
    const { stdout } = await run('/usr/bin/pdfinfo', [input]);
    const pages = /^Pages:\s+(\d+)/m.exec(stdout)?.[1];
    if (!pages) throw new Error('pdfinfo printed no page count');
    return Number(pages);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The text of a PDF as poppler extracts it (layout kept), for asserting what a page prints. */
export async function pdfText(pdf: Buffer): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ppay-pdftext-'));
  try {
    const input = path.join(dir, 'in.pdf');
    await writeFile(input, pdf);
    const { stdout } = await run('/usr/bin/pdftotext', ['-layout', input, '-']);
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
