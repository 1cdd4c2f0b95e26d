// Translates driver constraint errors (better-sqlite3 and pg) into DomainErrors, in one place, so no
// repository or caller ever inspects a driver error itself.

import { domainError, type ErrorCode } from '../domain/errors.ts';

const SQLITE_UNIQUE_CODES = new Set(['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);
const PG_UNIQUE_VIOLATION = '23505';
const SQLITE_FOREIGN_KEY = 'SQLITE_CONSTRAINT_FOREIGNKEY';
const PG_FOREIGN_KEY_VIOLATION = '23503';
// better-sqlite3 names the table only in its message: "UNIQUE constraint failed: payment_options.ente_id, …".
const SQLITE_UNIQUE_TABLE = /constraint failed: (\w+)\./;

interface DriverError {
  code?: unknown;
  table?: unknown;
  message?: unknown;
}

function asDriverError(err: unknown): DriverError | null {
  return typeof err === 'object' && err !== null ? (err as DriverError) : null;
}

export function isUniqueViolation(err: unknown): boolean {
  const code = asDriverError(err)?.code;
  return code === PG_UNIQUE_VIOLATION || (typeof code === 'string' && SQLITE_UNIQUE_CODES.has(code));
}

export function isForeignKeyViolation(err: unknown): boolean {
  const code = asDriverError(err)?.code;
  return code === PG_FOREIGN_KEY_VIOLATION || code === SQLITE_FOREIGN_KEY;
}

/** The table whose unique constraint failed, or null when the driver does not say. */
export function violatedTable(err: unknown): string | null {
  const driverError = asDriverError(err);
  if (typeof driverError?.table === 'string') return driverError.table;
  if (typeof driverError?.message !== 'string') return null;
  return SQLITE_UNIQUE_TABLE.exec(driverError.message)?.[1] ?? null;
}

/** Which DomainError a unique violation becomes: one code, or one code per table. */
export type UniqueViolationCodes = ErrorCode | Readonly<Record<string, ErrorCode>>;

function codeFor(err: unknown, codes: UniqueViolationCodes): ErrorCode {
  if (typeof codes === 'string') return codes;
  const table = violatedTable(err);
  return (table !== null ? codes[table] : undefined) ?? 'DUPLICATE';
}

/** Runs a write and rethrows a unique violation as the DomainError its table calls for. */
export async function mapUniqueViolation<T>(
  codes: UniqueViolationCodes,
  details: Record<string, unknown>,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const code = codeFor(err, codes);
    throw domainError(code, `${code}: the record already exists`, { ...details, table: violatedTable(err) });
  }
}

/** Runs a write and rethrows a foreign-key violation as the given "unknown reference" DomainError. */
export async function mapForeignKeyViolation<T>(
  code: ErrorCode,
  details: Record<string, unknown>,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isForeignKeyViolation(err)) throw err;
    throw domainError(code, `${code}: a referenced record does not exist`, details);
  }
}
