// The `ppay` command line (DESIGN §10): start, migrate, seed, and the operator's admin commands.
// Every command reads the configuration once; a DomainError ends the command with its code and
// message on stderr and exit status 1, anything else with a fixed text and status 2.
// Commands that need the XML stack (libxml2-wasm), SOAP, the node client or the emulator import
// them when they run: `ppay import` of a 100,000-row file must stay far below 300 MB, and those
// modules alone weigh about 150 MB.

import { Command, Option } from 'commander';
import type { Knex } from 'knex';
import { loadConfig, type Config } from './config.ts';
import { loadManifest } from './soap/manifest.ts';
import { createDb } from './db/knex.ts';
import { migrateLatest } from './db/migrate.ts';
import { createStore, type Store } from './db/store.ts';
import { isDomainError } from './domain/errors.ts';
import { addClient, addEnte, addService, setClientEndpoints, showPosition } from './app/admin.ts';
import { setDropFolder, showDropFolder, type SetDropFolderInput } from './app/dropFolders.ts';
import { describeJobs, jobStatuses, runJobNow } from './batch/scheduler.ts';
import { SCHEDULED_JOB_NAMES } from './batch/schedule.ts';
import type { PaymentStep } from './emulator/index.ts';
import { createEmulatorDb } from './emulator/db.ts';
import { describeRevision, describeSettlement } from './emulator/settleReport.ts';
import { romeDate } from './pagopa/time.ts';
import { listNotifications, OUTBOX_STATUSES, replayNotification } from './app/callbacks/deadLetters.ts';
import type { OutboxStatus } from './db/repositories/outbox.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { findAnomalies, resolveAnomaly } from './app/reconciliation/anomalies.ts';
import { describeAnomaly, describeReconciliation } from './app/reconciliation/summary.ts';
import {
  describeImportReport,
  runImportCommand,
  type ImportCommandOptions,
} from './batch/importer/command.ts';

const MODELS = ['base', 'multe', 'async', 'sync'] as const;

/** A mistake in how the command was called: reported without a stack, exit status 1. */
class UsageError extends Error {}

/** Opens the configured database, migrated, for one command, and always closes it. */
async function withStore<T>(fn: (store: Store, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const db: Knex = createDb(config.databaseUrl);
  try {
    await migrateLatest(db);
    return await fn(createStore(db), config);
  } finally {
    await db.destroy();
  }
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Where the CLI reaches a running connector by default: its public URL, else the configured port. */
function defaultServerUrl(config: Config): string {
  if (config.publicUrl) return config.publicUrl;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port || 8080}`;
}

function printStep(step: PaymentStep): void {
  const fault = step.faultCode ? ` ${step.faultCode}` : '';
  const about = step.fiscalCode ? ` [${step.fiscalCode}]` : '';
  const detail = step.description ? ` (${step.description})` : '';
  process.stdout.write(`${step.step.padEnd(24)} ${step.outcome}${fault}${about}${detail}\n`);
}

function collect(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

interface DropFolderOptions {
  local?: boolean;
  sftp?: boolean;
  host?: string;
  port?: string;
  user?: string;
  keyFile?: string;
  hostFingerprint?: string;
  root?: string;
  check?: boolean;
}

/** What `ente drop-folder` asks to store; null to only show (and --check) the settings. */
function dropFolderInput(ente: string, opts: DropFolderOptions): SetDropFolderInput | null {
  const sftpValues = [opts.host, opts.port, opts.user, opts.keyFile, opts.hostFingerprint, opts.root];
  const anySftpValue = sftpValues.some((v) => v !== undefined);
  if (opts.local && opts.sftp) throw new UsageError('choose one of --local and --sftp');
  if (anySftpValue && !opts.sftp)
    throw new UsageError('--host, --port, --user, --key-file, --host-fingerprint and --root go with --sftp');
  if (opts.local) return { ente, kind: 'local' };
  if (!opts.sftp) return null;
  return {
    ente,
    kind: 'sftp',
    host: opts.host,
    port: opts.port,
    username: opts.user,
    keyFile: opts.keyFile,
    hostFingerprint: opts.hostFingerprint,
    root: opts.root,
  };
}

function buildCli(): Command {
  const program = new Command('ppay')
    .description('ppay-connector: intermediary between public bodies and the pagoPA node')
    .showHelpAfterError();

  program
    .command('start')
    .description('migrate, seed the demo data when the database is empty (development), serve HTTP')
    .action(async () => {
      const { startConnector } = await import('./main.ts');
      const { emulatorEndpoints } = await import('./emulator/index.ts');
      const connector = await startConnector(loadConfig());
      const { url, config, seeded } = connector;
      const soapServices = loadManifest()
        .filter((svc) => svc.path && (svc.interface === 'gestionale' || svc.interface === 'pagopa'))
        .map((svc) => `  ${svc.interface.padEnd(10)} ${url}${svc.path}?wsdl`);
      const emulator = config.emulator
        ? emulatorEndpoints(url).map((e) => `  emulator   ${e.name}: ${e.url}`)
        : [];
      process.stdout.write(
        [
          `ppay-connector listening on ${url} (${config.env}, ${config.databaseUrl.replace(/\/\/[^@/]*@/, '//***@')})`,
          `  health     ${url}/health`,
          ...soapServices,
          ...emulator,
          `  portal     ${url}/portal/`,
          `  citizens   ${url}/pay/`,
          seeded ? '  demo data  loaded (see: npm run -s ppay -- seed --demo --json)' : '',
          seeded
            ? '  demo users admin / admin-demo-password, operatore.comune / operatore-demo-password'
            : '',
        ]
          .filter(Boolean)
          .join('\n') + '\n',
      );
      const stop = () => {
        void connector.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  program
    .command('migrate')
    .description('apply pending database migrations')
    .action(async () => {
      const applied = await withStore(async (store) => (await migrateLatest(store.db)).length);
      process.stdout.write(`migrations applied: ${applied}\n`);
    });

  program
    .command('seed')
    .description('load data into the database')
    .option('--demo', 'the demo broker, station, enti, services, gestionale client and positions')
    .option('--json', 'print what was seeded as one JSON object')
    .action(async (opts: { demo?: boolean; json?: boolean }) => {
      if (!opts.demo) throw new UsageError('nothing to seed: pass --demo');
      const demo = await withStore(async (store, config) => {
        if (config.env === 'production') {
          throw new UsageError('the demo data is refused when PPAY_ENV=production');
        }
        // Loaded here: the demo pulls in the payment use cases and their XML schemas (~180 MB).
        const { seedDemo } = await import('./app/seedDemo.ts');
        return seedDemo(store);
      });
      if (opts.json) print(demo);
      else
        process.stdout.write(
          `demo data ready: ${demo.enti.length} enti, ${demo.positions.length} open positions\n`,
        );
    });

  const ente = program.command('ente').description('enti creditori');
  ente
    .command('add')
    .requiredOption('--fiscal-code <cf>', '11-digit fiscal code (identificativoDominio)')
    .requiredOption('--name <name>', 'name of the ente')
    .requiredOption('--station <id>', 'station id of the intermediary, e.g. 12345678903_01')
    .option('--segregation-code <nn>', 'segregation code for aux digit 3 notices')
    .addOption(
      new Option('--aux-digit <d>', 'aux digit of its notice numbers')
        .choices(['0', '1', '2', '3'])
        .default('3'),
    )
    .option('--application-code <nn>', 'application code for aux digit 0 notices')
    .option('--iban <iban>', 'default IBAN for its services')
    .action(
      async (opts: {
        fiscalCode: string;
        name: string;
        station: string;
        segregationCode?: string;
        auxDigit: string;
        applicationCode?: string;
        iban?: string;
      }) => {
        const created = await withStore((store) =>
          addEnte(store, { ...opts, auxDigit: Number(opts.auxDigit) as 0 | 1 | 2 | 3 }),
        );
        print(created);
      },
    );

  ente
    .command('drop-folder')
    .description(
      "show or set where the ente's drop folder lives: local folders under <data>/sftp/<cf>/ (the default) or a remote SFTP server",
    )
    .argument('<cf>', 'fiscal code of the ente')
    .option('--local', 'use the local folders under <data>/sftp/<cf>/')
    .option('--sftp', 'pull from and push to a remote SFTP server (needs the options below)')
    .option('--host <host>', 'SFTP server host')
    .option('--port <port>', 'SFTP server port (default 22)')
    .option('--user <name>', 'login user name')
    .option('--key-file <path>', 'unencrypted private key file (only its path is stored)')
    .option(
      '--host-fingerprint <SHA256:...>',
      "the server's host key fingerprint, as ssh-keygen -l prints it",
    )
    .option('--root <path>', 'remote folder holding in/ processing/ done/ rejected/ out/')
    .option('--check', 'connect, create the folders when missing and list what waits in in/')
    .action(async (enteFiscalCode: string, opts: DropFolderOptions) => {
      const input = dropFolderInput(enteFiscalCode, opts);
      const view = await withStore(async (store, config) => {
        const shown = input
          ? await setDropFolder(store, input, config.dataDir)
          : await showDropFolder(store, enteFiscalCode, config.dataDir);
        if (!opts.check) return shown;
        const { checkEnteDropFolder } = await import('./batch/enteDropFolders.ts');
        const check = await checkEnteDropFolder(store, config.dataDir, enteFiscalCode, {
          settleMs: config.importSettleMs,
          requireSidecar: config.importRequireSidecar,
        });
        return { ...shown, check };
      });
      print(view);
    });

  const service = program.command('service').description('services (tipi dovuto) of an ente');
  service
    .command('add')
    .requiredOption('--ente <cf>', 'fiscal code of the ente')
    .requiredOption('--code <code>', 'service code (tipo dovuto)')
    .requiredOption('--description <text>', 'causale shown to the payer')
    .requiredOption('--category <taxonomy>', 'taxonomy code, e.g. 9/0101101IM/')
    .option('--iban <iban>', 'IBAN credited (defaults to the ente IBAN)')
    .option('--spontaneous', 'accepts spontaneous payments')
    .action(
      async (opts: {
        ente: string;
        code: string;
        description: string;
        category: string;
        iban?: string;
        spontaneous?: boolean;
      }) => {
        print(
          await withStore((store) => addService(store, { ...opts, spontaneous: Boolean(opts.spontaneous) })),
        );
      },
    );

  const client = program.command('client').description('gestionale clients (SOAP credentials)');
  client
    .command('add')
    .requiredOption('--username <username>', 'WS-Security username')
    .requiredOption('--name <name>', 'who the gestionale is')
    .requiredOption('--ente <cf...>', 'enti it may act for (repeat or comma-separate)', collect)
    .option('--service <code...>', 'services it may use (default: all of its enti)', collect)
    .option('--model <model...>', `integration models (${MODELS.join(', ')}); default all`, collect)
    .option('--callback-url <url>', 'its SOAP endpoint for callbacks (wsdl/gestionale-callback.wsdl)')
    .option('--return-url <prefix...>', 'allowed return URL prefixes for redirect payments', collect)
    .action(
      async (opts: {
        username: string;
        name: string;
        ente: string[];
        service?: string[];
        model?: string[];
        callbackUrl?: string;
        returnUrl?: string[];
      }) => {
        const models = opts.model ?? [...MODELS];
        const unknown = models.filter((m) => !(MODELS as readonly string[]).includes(m));
        if (unknown.length > 0) throw new UsageError(`unknown model: ${unknown.join(', ')}`);
        const created = await withStore((store) =>
          addClient(store, {
            username: opts.username,
            name: opts.name,
            enti: opts.ente,
            services: opts.service ?? [],
            models: models as Array<(typeof MODELS)[number]>,
            callbackUrl: opts.callbackUrl ?? null,
            returnUrlPrefixes: opts.returnUrl ?? [],
          }),
        );
        process.stderr.write('The password is shown only now: store it in the gestionale.\n');
        print(created);
      },
    );

  const outbox = program.command('outbox').description('callbacks to gestionali waiting, delivered or dead');
  outbox
    .command('list')
    .description('one JSON object per line, oldest first')
    .addOption(new Option('--status <status>', 'only rows in this status').choices([...OUTBOX_STATUSES]))
    .option('--payload', 'include each notification payload')
    .action(async (opts: { status?: OutboxStatus; payload?: boolean }) => {
      const rows = await withStore((store) => listNotifications(store, opts.status));
      for (const { payload, ...row } of rows) {
        process.stdout.write(`${JSON.stringify(opts.payload ? { ...row, payload } : row)}\n`);
      }
    });
  outbox
    .command('replay')
    .description('put a dead letter back in the queue (same notificationId, attempts reset)')
    .argument('<id>', 'the outbox id (= notificationId)')
    .action(async (id: string) => {
      const result = await withStore((store) => replayNotification(store, id, 'ppay-cli'));
      if (result.status === 'UNKNOWN') throw new UsageError(`no outbox row ${id}`);
      if (result.status === 'NOT_DEAD') {
        throw new UsageError(`outbox row ${id} is ${result.message.status}: only DEAD rows can be replayed`);
      }
      const { payload: _payload, ...row } = result.message;
      process.stdout.write(`${JSON.stringify(row)}\n`);
    });

  client
    .command('set')
    .description("change a client's callback URL or return-URL allow-list")
    .argument('<username>', 'the client')
    .option('--callback-url <url>', 'its SOAP endpoint for callbacks')
    .option('--no-callback-url', 'remove the callback URL (no callbacks)')
    .option('--return-url <prefix...>', 'allowed return URL prefixes (replaces the list)', collect)
    .action(async (username: string, opts: { callbackUrl?: string | false; returnUrl?: string[] }) => {
      const callbackUrl = opts.callbackUrl === false ? null : opts.callbackUrl;
      print(
        await withStore((store) =>
          setClientEndpoints(store, { username, callbackUrl, returnUrlPrefixes: opts.returnUrl }),
        ),
      );
    });

  const user = program
    .command('user')
    .description('portal users: connector admins and operators of an ente (the first admin is made here)');
  user
    .command('add')
    .description(
      'create a portal user; the password is read from PPAY_NEW_USER_PASSWORD or, when unset, generated and printed once',
    )
    .argument('<username>', '3-64 lowercase letters, digits, dot, dash, underscore')
    .addOption(
      new Option('--role <role>', 'what the user may do')
        .choices(['admin', 'operator'])
        .makeOptionMandatory(),
    )
    .option('--ente <cf>', 'fiscal code of the ente of an operator')
    .option('--name <full name>', 'full name shown in the portal (default: the username)')
    .action(async (username: string, opts: { role: string; ente?: string; name?: string }) => {
      if (opts.role === 'operator' && !opts.ente)
        throw new UsageError('an operator needs --ente <fiscal code>');
      if (opts.role === 'admin' && opts.ente) throw new UsageError('--ente goes with --role operator');
      const password = process.env.PPAY_NEW_USER_PASSWORD || undefined;
      // Imported here: the portal's auth module hashes a dummy password when it loads.
      const { addUserFromCommand } = await import('./app/portal/adminActions.ts');
      const { user: created, generatedPassword } = await withStore(async (store) => {
        const result = await addUserFromCommand(
          store,
          { username, role: opts.role, enteFiscalCode: opts.ente, fullName: opts.name, password },
          'ppay-cli',
        );
        const ente = result.user.enteId === null ? null : await store.enti.getById(result.user.enteId);
        return { ...result, user: { ...result.user, ente: ente?.fiscalCode ?? null } };
      });
      const { username: name, fullName, role, ente, status } = created;
      if (generatedPassword) {
        process.stderr.write('The password is shown only now: give it to the user.\n');
        print({ username: name, fullName, role, ente, status, password: generatedPassword });
      } else print({ username: name, fullName, role, ente, status });
    });
  user
    .command('list')
    .description('every portal user with role, ente and status')
    .option('--json', 'print the list as JSON')
    .action(async (opts: { json?: boolean }) => {
      const rows = await withStore(async (store) => {
        const enti = new Map((await store.enti.list()).map((e) => [e.id, e.fiscalCode]));
        return (await store.portalUsers.list()).map((u) => ({
          username: u.username,
          fullName: u.fullName,
          role: u.role,
          ente: u.enteId === null ? null : (enti.get(u.enteId) ?? null),
          status: u.status,
          lastLoginAt: u.lastLoginAt,
        }));
      });
      if (opts.json) return print(rows);
      for (const r of rows) {
        process.stdout.write(
          `${r.username.padEnd(24)} ${r.role.padEnd(8)} ${(r.ente ?? '-').padEnd(11)} ${r.status.padEnd(8)} ${r.fullName}\n`,
        );
      }
    });
  user
    .command('disable')
    .description('disable a portal user: its sessions end at once')
    .argument('<username>', 'the user')
    .action(async (username: string) => {
      const { changeUserStatus } = await import('./app/portal/adminActions.ts');
      const done = await withStore(async (store) => {
        const found = await store.portalUsers.findForLogin(username.trim().toLowerCase());
        if (!found) throw new UsageError(`no portal user ${username}`);
        // id 0: the CLI is nobody's session, so any user may be disabled from here.
        await changeUserStatus(store, { id: 0 }, found.user, 'disabled', 'ppay-cli');
        return { username: found.user.username, status: 'disabled' };
      });
      print(done);
    });

  const jobs = program
    .command('jobs')
    .description('scheduled jobs: nightly jobs and exports (PPAY_JOB_SCHEDULE; each run takes a DB lock)');
  jobs
    .command('list')
    .description('each job with its schedule, last run and outcome, and next run (Europe/Rome)')
    .option('--json', 'print the list as JSON')
    .action(async (opts: { json?: boolean }) => {
      const { jobCatalogueFor } = await import('./batch/jobs.ts');
      const statuses = await withStore((store, config) =>
        jobStatuses(
          store,
          jobCatalogueFor(config, () => null),
          config.jobSchedule,
        ),
      );
      if (opts.json) print(statuses);
      else process.stdout.write(describeJobs(statuses));
    });
  jobs
    .command('run')
    .description('run a job now, outside its schedule (recorded as a manual run)')
    .argument('<job>', SCHEDULED_JOB_NAMES.join(' | '))
    .option(
      '--days <n>',
      'notifyExpiredNotices: reservations older than n days (default PPAY_RESERVATION_MAX_DAYS)',
    )
    .option(
      '--date <YYYY-MM-DD>',
      'paymentsExport, expiredNoticesExport: the day to export (default: yesterday)',
    )
    .action(async (job: string, opts: { days?: string; date?: string }) => {
      const { jobCatalogueFor } = await import('./batch/jobs.ts');
      const { NodeClient } = await import('./pagopa/nodeClient.ts');
      if (opts.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(opts.date)) {
        throw new UsageError('--date must be YYYY-MM-DD');
      }
      const result = await withStore((store, config) => {
        const days = opts.days === undefined ? config.reservationMaxDays : Number(opts.days);
        if (!Number.isInteger(days) || days < 1) throw new UsageError('--days must be a positive integer');
        // reconcile asks the node: PPAY_NODE_URL, else the emulator of the running connector.
        const node = () => {
          const baseUrl = config.nodeUrl ?? (config.emulator ? `${defaultServerUrl(config)}/emulator` : null);
          return baseUrl ? new NodeClient({ baseUrl, timeoutMs: config.nodeTimeoutMs, store }) : null;
        };
        const catalogue = jobCatalogueFor(config, node, { reservationMaxDays: days, exportDate: opts.date });
        const found = catalogue.find((j) => j.name === job);
        if (!found) throw new UsageError(`unknown job ${job} (jobs: ${SCHEDULED_JOB_NAMES.join(', ')})`);
        return runJobNow(store, found);
      });
      print(result);
    });

  program
    .command('import')
    .description(
      'import the complete files of the drop folders once (finishing killed imports first), or one --file',
    )
    .option('--ente <cf>', 'only the drop folder of this ente (required with --file)')
    .option('--file <path>', 'import this file through the ente drop folder (its outcome lands in out/)')
    .option('--format <name>', 'with --file: the format, instead of detecting it from the name or first row')
    .option('--service <code>', 'with --file: the service of a list that names none (PiemontePay)')
    .option('--expect-count <n>', 'with --file: control total, the number of positions')
    .option('--expect-total-cents <c>', 'with --file: control total, the sum of the amounts')
    .option('--json', 'print the result as JSON')
    .action(async (opts: ImportCommandOptions & { json?: boolean }) => {
      const report = await withStore((store, config) => runImportCommand(store, config, opts));
      if (opts.json) print(report);
      else process.stdout.write(describeImportReport(report));
      if (report.failures.length > 0) process.exitCode = 1;
    });

  const position = program.command('position').description('debt positions');
  position
    .command('show')
    .argument('<ente>', 'fiscal code of the ente')
    .argument('<noticeNumber>', '18-digit notice number')
    .action(async (enteFiscalCode: string, noticeNumber: string) => {
      print(await withStore((store) => showPosition(store, enteFiscalCode, noticeNumber)));
    });

  const reconcileCommand = program
    .command('reconcile')
    .description('fetch new reporting flows, import treasury statements, match and report anomalies')
    .option('--date <YYYY-MM-DD>', 'the day to judge by (default: today, Europe/Rome)')
    .option('--ente <cf>', 'only this ente')
    .option('--json', 'print the whole result as JSON')
    .action(async (opts: { date?: string; ente?: string; json?: boolean }) => {
      if (opts.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(opts.date)) {
        throw new UsageError('--date must be YYYY-MM-DD');
      }
      const { NodeClient } = await import('./pagopa/nodeClient.ts');
      const { reconcile } = await import('./app/reconciliation/reconcile.ts');
      const result = await withStore((store, config) => {
        // The node: PPAY_NODE_URL, else the emulator of the running connector.
        const baseUrl = config.nodeUrl ?? (config.emulator ? `${defaultServerUrl(config)}/emulator` : null);
        const node = baseUrl ? new NodeClient({ baseUrl, timeoutMs: config.nodeTimeoutMs, store }) : null;
        return reconcile({
          store,
          node,
          dataDir: config.dataDir,
          date: opts.date,
          enteFiscalCode: opts.ente,
          thresholds: { receiptFlowDays: config.receiptFlowDays, flowCreditDays: config.flowCreditDays },
          actor: 'ppay-cli',
        });
      });
      if (opts.json) print(result);
      else process.stdout.write(describeReconciliation(result));
      if (result.status === 'locked') process.exitCode = 1;
    });
  reconcileCommand
    .command('export')
    .description(
      "write each ente's reconciliation report of a day (XML, signed when configured, and CSV) into its drop folder's out/ (<data>/sftp/<ente>/out/, or the remote one)",
    )
    .option('--date <YYYY-MM-DD>', 'the day the report covers (default: yesterday, Europe/Rome)')
    .option('--ente <cf>', 'only this ente')
    .option('--json', 'print the whole result as JSON')
    .action(async (_opts: unknown, command: Command) => {
      // The same options of `reconcile` take the values first: read both levels.
      const opts = command.optsWithGlobals<{ date?: string; ente?: string; json?: boolean }>();
      if (opts.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(opts.date)) {
        throw new UsageError('--date must be YYYY-MM-DD');
      }
      const { describeExport, exportReconciliationReports } =
        await import('./app/reconciliation/exportReport.ts');
      const { openRemoteDropFolder } = await import('./batch/enteDropFolders.ts');
      const result = await withStore((store, config) =>
        exportReconciliationReports({
          store,
          dataDir: config.dataDir,
          date: opts.date,
          enteFiscalCode: opts.ente,
          signing: config.exportSigning ?? null,
          remoteOutFolderOf: (_store, ente) => openRemoteDropFolder(store, config.dataDir, ente),
        }),
      );
      if (opts.json) print(result);
      else process.stdout.write(describeExport(result));
      if (result.status === 'locked') process.exitCode = 1;
    });

  const anomalies = program
    .command('anomalies')
    .description('reconciliation anomalies: without a subcommand, list the open ones')
    .option('--ente <cf>', 'only this ente')
    .option('--all', 'resolved ones too')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { ente?: string; all?: boolean; json?: boolean }) => {
      const rows = await withStore((store) =>
        findAnomalies(store, { enteFiscalCode: opts.ente, all: opts.all }),
      );
      for (const row of rows)
        process.stdout.write(`${opts.json ? JSON.stringify(row) : describeAnomaly(row)}\n`);
    });
  anomalies
    .command('resolve')
    .description('resolve an open anomaly by hand (it stays resolved)')
    .argument('<id>', 'the anomaly id (#id in the list)')
    .requiredOption('--note <text>', 'why it is resolved')
    .action(async (id: string, opts: { note: string }) => {
      if (!/^\d+$/.test(id)) throw new UsageError('the anomaly id is a number');
      const resolved = await withStore((store) => resolveAnomaly(store, Number(id), opts.note, 'ppay-cli'));
      process.stdout.write(`${describeAnomaly(resolved)}\n`);
    });

  const statementCommand = program.command('statement').description('treasury bank statements');
  statementCommand
    .command('import')
    .description('import a camt.053 (.xml) or cash journal (.csv) statement of an ente')
    .argument('<file>', 'the statement file')
    .requiredOption('--ente <cf>', 'fiscal code of the ente whose account it is')
    .action(async (file: string, opts: { ente: string }) => {
      const content = await readFile(file);
      const { importStatement } = await import('./app/reconciliation/importStatement.ts');
      const result = await withStore((store) =>
        importStatement(
          store,
          { enteFiscalCode: opts.ente, fileName: path.basename(file), content },
          { actor: 'ppay-cli' },
        ),
      );
      print(result);
    });

  const emulator = program
    .command('emulator')
    .description('the pagoPA node / PSP emulator: without a subcommand, print its endpoints')
    .action(async () => {
      const { emulatorEndpoints } = await import('./emulator/index.ts');
      const config = loadConfig();
      const base = defaultServerUrl(config);
      if (!config.emulator) process.stderr.write('note: the emulator is disabled in this configuration\n');
      for (const e of emulatorEndpoints(base)) process.stdout.write(`${e.name.padEnd(28)} ${e.url}\n`);
    });

  emulator
    .command('pay')
    .description(
      'a PSP pays a notice: verify, get payment, send receipt (legacy: paaVerificaRPT, paaAttivaRPT, RT)',
    )
    .argument('<ente>', 'fiscal code of the ente')
    .argument('<noticeNumber>', '18-digit notice number')
    .option('--psp <idPSP>', 'the paying PSP (default: the first emulated PSP)')
    .option('--amount <euro>', 'amount paid, e.g. 12.30 (default: what the ente asks)')
    .option('--url <url>', 'base URL of the connector (default: PPAY_PUBLIC_URL or http://127.0.0.1:PORT)')
    .option('--v1', 'use paGetPayment / paSendRT instead of the V2 operations')
    .action(
      async (
        enteFiscalCode: string,
        noticeNumber: string,
        opts: { psp?: string; amount?: string; url?: string; v1?: boolean },
      ) => {
        const { payNotice } = await import('./emulator/index.ts');
        const result = await withStore((store, config) =>
          payNotice({
            store,
            connectorUrl: opts.url ?? defaultServerUrl(config),
            enteFiscalCode,
            noticeNumber,
            psp: opts.psp,
            amount: opts.amount,
            version: opts.v1 ? 1 : undefined,
            onStep: printStep,
          }),
        );
        if (result.ok) {
          process.stdout.write(`receipt accepted (paymentToken ${result.paymentToken ?? ''})\n`);
        } else {
          process.stdout.write('payment not completed\n');
          process.exitCode = 1;
        }
      },
    );

  emulator
    .command('settle')
    .description(
      "the PSPs close a day: reporting flows per PSP and ente, and each ente's bank statement (camt.053 + CSV) in its treasury folder",
    )
    .option('--date <YYYY-MM-DD>', 'the operating day (default: today in Europe/Rome)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { date?: string; json?: boolean }) => {
      const { settleDay } = await import('./emulator/settle.ts');
      const result = await withStore((store, config) =>
        settleDay({ store, dataDir: config.dataDir, date: opts.date ?? romeDate(new Date()) }),
      );
      if (opts.json) print(result);
      else process.stdout.write(`${describeSettlement(result)}\n`);
      if (result.status === 'locked') process.exitCode = 1;
    });

  emulator
    .command('revise-flow')
    .description('a PSP sends a corrected revision of a flow (same id and TRN, later dataOraFlusso)')
    .argument('<flowId>', 'identificativoFlusso, e.g. 2026-11-27BCITITMM-1')
    .option('--json', 'print the revised flow as JSON (with its XML)')
    .action(async (flowId: string, opts: { json?: boolean }) => {
      const { reviseFlow } = await import('./emulator/settle.ts');
      const revised = await withStore((store) => reviseFlow({ store, flowId }));
      if (opts.json) print(revised);
      else process.stdout.write(`${describeRevision(revised)}\n`);
    });

  emulator
    .command('station')
    .description("the emulated node's settings for an EC station (primitive version, RPT redirect URL)")
    .argument('<stationId>', 'station id, e.g. 12345678903_01')
    .addOption(new Option('--primitive-version <n>', 'paGetPayment / paSendRT version').choices(['1', '2']))
    .option('--redirect-url <url>', 'where RPT checkouts send the citizen back (idDominio, idSession, esito)')
    .action(async (stationId: string, opts: { primitiveVersion?: string; redirectUrl?: string }) => {
      const settings = await withStore(async (store) => {
        const edb = createEmulatorDb(store.db);
        if (opts.primitiveVersion === undefined && opts.redirectUrl === undefined) {
          return edb.stations.settings(stationId);
        }
        if (opts.redirectUrl !== undefined && !/^https?:\/\/\S+$/.test(opts.redirectUrl)) {
          throw new UsageError('--redirect-url must be an absolute http(s) URL');
        }
        return edb.stations.update(stationId, {
          ...(opts.primitiveVersion ? { primitiveVersion: opts.primitiveVersion === '1' ? 1 : 2 } : {}),
          ...(opts.redirectUrl !== undefined ? { redirectUrl: opts.redirectUrl } : {}),
        });
      });
      print(settings);
    });

  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    if (isDomainError(err)) {
      process.stderr.write(`error ${err.code}: ${err.message}\n`);
      process.exitCode = 1;
    } else if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 2;
    }
  }
}

await main(process.argv);
