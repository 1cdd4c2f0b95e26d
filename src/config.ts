// Configuration, read from the environment once at start-up into a frozen, typed object.
// Invalid settings stop start-up with a report that names every offending variable
// (README "Configuration" has the table of all of them).

import { readFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { domainError } from './domain/errors.ts';
import type { SigningKey } from './xml/signing.ts';
import { resolveJobSchedule, type JobSchedule } from './batch/schedule.ts';

export type Environment = 'development' | 'production';

export interface Config {
  readonly env: Environment;
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string;
  readonly dataDir: string;
  /** Signs redirect tokens and portal sessions. */
  readonly secret: string;
  /** Base URL the connector advertises (redirect pages, printed URLs); derived from host/port when unset. */
  readonly publicUrl: string | undefined;
  /** Whether the pagoPA node emulator is mounted beside the connector. */
  readonly emulator: boolean;
  /** Largest SOAP request accepted, in bytes, counted after gzip/deflate inflation. */
  readonly maxBodyBytes: number;
  /** Days a SOAP request/response stays in the message log. */
  readonly messageLogDays: number;
  /** Base URL of the pagoPA node (NodoPerPa at `<url>/ws/NodoPerPa`); unset means the embedded emulator. */
  readonly nodeUrl: string | undefined;
  /** How long the connector waits for the node (pagoPA: the EC waits up to 40 s). */
  readonly nodeTimeoutMs: number;
  /** How long a citizen's redirect link (createPaymentSession) stays valid, in minutes. */
  readonly sessionTtlMinutes: number;
  /** Delivery attempts of a callback before it becomes a dead letter. */
  readonly outboxMaxAttempts: number;
  /** Wait after a callback's first failed attempt, doubled after each further one (plus jitter). */
  readonly outboxBaseDelayMs: number;
  /** How often the callback worker looks for due notifications. */
  readonly outboxPollMs: number;
  /** How long the connector waits for a gestionale's callback endpoint. */
  readonly callbackTimeoutMs: number;
  /** Hour (0–23, Europe/Rome) after which the nightly jobs run. */
  readonly nightlyHour: number;
  /** Each scheduled job's cron (Europe/Rome) or null when off: PPAY_JOB_SCHEDULE over the defaults. */
  readonly jobSchedule: JobSchedule;
  /** Days after which a reserved, never activated multe notice is reported (notifyExpiredNotices). */
  readonly reservationMaxDays: number;
  /** Days after its payment date after which a paid receipt in no reporting flow is RECEIPT_WITHOUT_FLOW. */
  readonly receiptFlowDays: number;
  /** Days after its settlement date after which a flow without bank credit is FLOW_WITHOUT_CREDIT. */
  readonly flowCreditDays: number;
  /** Signs the nightly reconciliation exports (PEM key + certificate); unset: exports are not signed. */
  readonly exportSigning: SigningKey | undefined;
  /** How often `ppay start` looks for files in the drop folders (0: no importer in `ppay start`). */
  readonly importPollMs: number;
  /** A drop-folder file without `.sha256` sidecar is taken once unmodified for this long. */
  readonly importSettleMs: number;
  /** When true, a drop-folder file is never taken without a matching `.sha256` sidecar. */
  readonly importRequireSidecar: boolean;
  /**
   * PPAY_IMPORT_TRUSTED_CERT's PEM certificate: when set, every XML input must carry an enveloped
   * signature by it (F_SIGNATURE otherwise); unset, XML inputs are read unsigned.
   */
  readonly importTrustedCertificatePem: string | undefined;
  /** Input lines per import transaction. */
  readonly importBatchRows: number;
  /** An import whose instance sent no heartbeat for this long is taken over by another one. */
  readonly importLeaseMs: number;
}

/** Used only in development, so `npm start` works with no setup; production refuses it. */
export const DEVELOPMENT_SECRET = 'ppay-development-secret-do-not-use-in-production';

const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const schema = z.object({
  PPAY_ENV: z
    .enum(['development', 'production'], { message: 'must be development or production' })
    .default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535')
    .default(8080),
  PPAY_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .refine((v) => /^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(v), {
      message: 'must be sqlite:<path> or postgres://user@host:port/database',
    })
    .optional(),
  PPAY_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  PPAY_PUBLIC_URL: z.url({ message: 'must be an absolute http(s) URL' }).optional(),
  PPAY_EMULATOR: booleanFlag.optional(),
  PPAY_MAX_BODY_BYTES: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(1024, 'must be at least 1024')
    .default(5 * 1024 * 1024),
  PPAY_NODE_URL: z.url({ message: 'must be an absolute http(s) URL' }).optional(),
  PPAY_NODE_TIMEOUT_MS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(100, 'must be at least 100')
    .default(40_000),
  PPAY_NIGHTLY_HOUR: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(0, 'must be between 0 and 23')
    .max(23, 'must be between 0 and 23')
    .default(2),
  PPAY_JOB_SCHEDULE: z.string().optional(),
  PPAY_RESERVATION_MAX_DAYS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .default(30),
  PPAY_RECEIPT_FLOW_DAYS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(0, 'must be between 0 and 365')
    .max(365, 'must be between 0 and 365')
    .default(3),
  PPAY_FLOW_CREDIT_DAYS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(0, 'must be between 0 and 365')
    .max(365, 'must be between 0 and 365')
    .default(2),
  PPAY_SESSION_TTL_MINUTES: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be between 1 and 1440')
    .max(1440, 'must be between 1 and 1440')
    .default(30),
  PPAY_OUTBOX_MAX_ATTEMPTS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .default(10),
  PPAY_OUTBOX_BASE_DELAY_MS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .default(2000),
  PPAY_OUTBOX_POLL_MS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(10, 'must be at least 10')
    .default(1000),
  PPAY_CALLBACK_TIMEOUT_MS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(100, 'must be at least 100')
    .default(10_000),
  PPAY_EXPORT_SIGNING_KEY: z.string().min(1).optional(),
  PPAY_EXPORT_SIGNING_CERT: z.string().min(1).optional(),
  PPAY_IMPORT_POLL_MS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(0, 'must be 0 (off) or more')
    .default(30_000),
  PPAY_IMPORT_SETTLE_MS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(0, 'must be at least 0')
    .default(60_000),
  PPAY_IMPORT_REQUIRE_SIDECAR: booleanFlag.default(false),
  PPAY_IMPORT_TRUSTED_CERT: z.string().min(1).optional(),
  PPAY_IMPORT_BATCH_ROWS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be between 1 and 5000')
    .max(5000, 'must be between 1 and 5000')
    .default(500),
  PPAY_IMPORT_LEASE_MS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(1000, 'must be at least 1000')
    .default(60_000),
  PPAY_MESSAGE_LOG_DAYS: z.coerce
    .number({ message: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .default(30),
});

type Env = Record<string, string | undefined>;

/** Treats empty variables as unset, as shells and .env files often leave them. */
function present(env: Env): Env {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
}

export function loadConfig(env: Env = process.env): Config {
  const parsed = schema.safeParse(present(env));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw domainError('CONFIG_INVALID', `invalid configuration:\n${problems.join('\n')}`, {
      variables: parsed.error.issues.map((i) => i.path.join('.')),
    });
  }
  const v = parsed.data;
  const production = v.PPAY_ENV === 'production';
  if (production && !v.PPAY_SECRET) {
    throw domainError(
      'CONFIG_INVALID',
      'invalid configuration:\n  PPAY_SECRET: is required when PPAY_ENV=production (at least 32 random characters)',
      { variables: ['PPAY_SECRET'] },
    );
  }
  if (production && !v.PPAY_NODE_URL) {
    throw domainError(
      'CONFIG_INVALID',
      'invalid configuration:\n  PPAY_NODE_URL: is required when PPAY_ENV=production (the pagoPA node)',
      {
        variables: ['PPAY_NODE_URL'],
      },
    );
  }
  if (production && v.PPAY_EMULATOR) {
    throw domainError(
      'CONFIG_INVALID',
      'invalid configuration:\n  PPAY_EMULATOR: the emulator is refused when PPAY_ENV=production',
      {
        variables: ['PPAY_EMULATOR'],
      },
    );
  }
  const dataDir = path.resolve(v.PPAY_DATA_DIR);
  const exportSigning = readExportSigning(v.PPAY_EXPORT_SIGNING_KEY, v.PPAY_EXPORT_SIGNING_CERT);
  const jobSchedule = resolveJobSchedule(v.PPAY_JOB_SCHEDULE, v.PPAY_NIGHTLY_HOUR);
  return Object.freeze({
    env: v.PPAY_ENV,
    host: v.HOST,
    port: v.PORT,
    dataDir,
    databaseUrl: v.DATABASE_URL ?? `sqlite:${path.join(dataDir, 'ppay.sqlite')}`,
    secret: v.PPAY_SECRET ?? DEVELOPMENT_SECRET,
    publicUrl: v.PPAY_PUBLIC_URL?.replace(/\/+$/, ''),
    emulator: v.PPAY_EMULATOR ?? !production,
    maxBodyBytes: v.PPAY_MAX_BODY_BYTES,
    messageLogDays: v.PPAY_MESSAGE_LOG_DAYS,
    nodeUrl: v.PPAY_NODE_URL?.replace(/\/+$/, ''),
    nodeTimeoutMs: v.PPAY_NODE_TIMEOUT_MS,
    sessionTtlMinutes: v.PPAY_SESSION_TTL_MINUTES,
    nightlyHour: v.PPAY_NIGHTLY_HOUR,
    jobSchedule,
    reservationMaxDays: v.PPAY_RESERVATION_MAX_DAYS,
    receiptFlowDays: v.PPAY_RECEIPT_FLOW_DAYS,
    flowCreditDays: v.PPAY_FLOW_CREDIT_DAYS,
    outboxMaxAttempts: v.PPAY_OUTBOX_MAX_ATTEMPTS,
    outboxBaseDelayMs: v.PPAY_OUTBOX_BASE_DELAY_MS,
    outboxPollMs: v.PPAY_OUTBOX_POLL_MS,
    callbackTimeoutMs: v.PPAY_CALLBACK_TIMEOUT_MS,
    exportSigning,
    importPollMs: v.PPAY_IMPORT_POLL_MS,
    importSettleMs: v.PPAY_IMPORT_SETTLE_MS,
    importRequireSidecar: v.PPAY_IMPORT_REQUIRE_SIDECAR,
    importTrustedCertificatePem: readTrustedCertificate(v.PPAY_IMPORT_TRUSTED_CERT),
    importBatchRows: v.PPAY_IMPORT_BATCH_ROWS,
    importLeaseMs: v.PPAY_IMPORT_LEASE_MS,
  });
}

function signingProblem(variables: string[], problem: string): never {
  throw domainError('CONFIG_INVALID', `invalid configuration:\n  ${variables.join(', ')}: ${problem}`, {
    variables,
  });
}

function readPem(variable: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    return signingProblem([variable], `cannot read ${file} (${reason})`);
  }
}

/** The certificate XML inputs must be signed by, read once at start-up so a bad path stops it. */
function readTrustedCertificate(certFile: string | undefined): string | undefined {
  if (certFile === undefined) return undefined;
  const certificatePem = readPem('PPAY_IMPORT_TRUSTED_CERT', certFile);
  try {
    new X509Certificate(certificatePem);
  } catch {
    return signingProblem(['PPAY_IMPORT_TRUSTED_CERT'], `${certFile} is not a PEM X.509 certificate`);
  }
  return certificatePem;
}

/**
 * The export signing pair, read once at start-up: both files or neither, a PEM private key and the
 * PEM certificate of its public key, so a bad setting stops start-up instead of the nightly export.
 */
function readExportSigning(
  keyFile: string | undefined,
  certFile: string | undefined,
): SigningKey | undefined {
  if (keyFile === undefined && certFile === undefined) return undefined;
  if (keyFile === undefined) {
    return signingProblem(['PPAY_EXPORT_SIGNING_KEY'], 'is required when PPAY_EXPORT_SIGNING_CERT is set');
  }
  if (certFile === undefined) {
    return signingProblem(['PPAY_EXPORT_SIGNING_CERT'], 'is required when PPAY_EXPORT_SIGNING_KEY is set');
  }
  const privateKeyPem = readPem('PPAY_EXPORT_SIGNING_KEY', keyFile);
  const certificatePem = readPem('PPAY_EXPORT_SIGNING_CERT', certFile);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(createPrivateKey(privateKeyPem));
  } catch {
    return signingProblem(['PPAY_EXPORT_SIGNING_KEY'], `${keyFile} is not an unencrypted PEM private key`);
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificatePem);
  } catch {
    return signingProblem(['PPAY_EXPORT_SIGNING_CERT'], `${certFile} is not a PEM X.509 certificate`);
  }
  if (!publicKey.equals(certificate.publicKey)) {
    return signingProblem(
      ['PPAY_EXPORT_SIGNING_KEY', 'PPAY_EXPORT_SIGNING_CERT'],
      'the private key does not belong to the certificate',
    );
  }
  return { privateKeyPem, certificatePem };
}
