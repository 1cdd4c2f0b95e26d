// Bank statements as they arrive in the treasury folder: the format is told by the file's
// extension (.xml camt.053, .csv cash journal) and each reader validates strictly.

import path from 'node:path';
import { domainError } from '../../domain/errors.ts';
import type { BankStatement } from '../model.ts';
import { readCamt053 } from './camt053.ts';
import { readCashJournal } from './cashJournal.ts';

export { buildCamt053, readCamt053 } from './camt053.ts';
export { buildCashJournal, readCashJournal } from './cashJournal.ts';
export { flowIdFromRemittance, pagopaRemittance } from './remittance.ts';

/** Reads a statement file by its extension (case-insensitive); any other extension is INVALID_DOCUMENT. */
export function readStatement(content: Uint8Array, fileName: string): BankStatement {
  const extension = path.extname(fileName).toLowerCase();
  if (extension === '.xml') return readCamt053(content);
  if (extension === '.csv') return readCashJournal(content);
  throw domainError(
    'INVALID_DOCUMENT',
    `${fileName}: a statement is a camt.053 .xml or a cash journal .csv`,
    {
      field: 'fileName',
      fileName,
    },
  );
}
