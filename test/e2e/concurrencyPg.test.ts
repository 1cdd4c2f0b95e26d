// Issue 10 item 5: four `ppay start` processes on ONE PostgreSQL database (a fresh schema), driven at
// once with requests spread round-robin, never hand out a number twice, never store an upload or a
// payment twice, and never let two payments of one notice both win:
//  1. requestIUV, uploadDebtPositions and whole payments (verify → get payment → paSendRT, each step
//     on another process) all at once: every IUV and notice number exists once (answers, the register
//     and the options; the unique constraints refuse a copy), every position is stored once, every
//     payment closes its position once, and each notifyPayment reaches the gestionale once;
//  2. the same upload messageId sent to every process at once: one upload, one set of positions, the
//     same answer everywhere; other content under that messageId is KO PPAY_MESSAGE_DUPLICATE; the
//     same requestIUV requestId on every process: one number;
//  3. one notice paid twice at the same time: paGetPayment through every process at once answers one
//     attempt; two paaAttivaRPT of two PSPs (two CCPs) at once: one OK, the other KO
//     PAA_PAGAMENTO_IN_CORSO; two paSendRT of two receipts at once: both stored, exactly one applied,
//     the other flagged DOUBLE_PAYMENT (answered OK: pagoPA's EC must accept every receipt), the
//     option and the position PAID once, one notifyPayment;
//  4. the nightly-job lock: every process ticks the scheduler (notifyExpiredNotices every minute) at
//     start-up; each slot runs once in job_runs and the expired reservations are expired and
//     reported once.
// PostgreSQL only (SQLite is one process's file by design). Unreachable PostgreSQL skips with a banner
// unless CI=true, where it fails. PPAY_STRESS=1 multiplies the load (2000 requestIUV, 200 uploads,
// 200 payments, 40 contested notices) for a longer local run.

import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { Knex } from 'knex';
import { seedDemo } from '../../src/app/seedDemo.ts';
import { reserveNotices } from '../../src/app/gestionale/reserveNotices.ts';
import { setClientEndpoints } from '../../src/app/admin.ts';
import { createStore } from '../../src/db/store.ts';
import { isDomainError } from '../../src/domain/errors.ts';
import { NOTIFY_PAYMENT } from '../../src/app/callbacks/notifyPayment.ts';
import { NOTIFY_EXPIRED_NOTICES } from '../../src/app/gestionale/expiredReservations.ts';
import { TestGestionale } from '../support/callbackGestionale.ts';
import {
  clusterPostgresUrl,
  postgresProblem,
  RoundRobin,
  soapPost,
  startCluster,
  type Cluster,
} from '../support/cluster.ts';
import {
  DEMO,
  EC,
  expectKo,
  expectOk,
  gestionaleClient,
  IBAN,
  insertItem,
  list,
  NODE_CALLER,
  positionArgs,
  uid,
  uploadArgs,
  type Answer,
  type GestionaleClient,
} from './gestionaleClient.ts';

const STRESS = process.env.PPAY_STRESS === '1';
const PROCESSES = 4;
const IUV_REQUESTS = STRESS ? 2000 : 400;
const UPLOADS = STRESS ? 200 : 50;
const POSITIONS_PER_UPLOAD = 5;
const PAYMENTS = STRESS ? 200 : 40;
const CONTESTED = STRESS ? 40 : 10;
const REPLAYED_UPLOADS = 8;
const RESERVED = 6;
const DAY_MS = 24 * 3600 * 1000;

const PA_FOR_NODE = '/ws/pagopa/paForNode';
const PA_PER_NODO_PSP = '/ws/pagopa/PaPerNodoPagamentoPsp';
const GESTIONALE_ACTOR = `gestionale:${DEMO.username}`;

interface Notice {
  positionId: string;
  iuv: string;
  noticeNumber: string;
  amountCents: number;
}

const euros = (cents: number) => (cents / 100).toFixed(2);

function identity(): string {
  return (
    `<idPA>${NODE_CALLER.enteFiscalCode}</idPA><idBrokerPA>${NODE_CALLER.brokerFiscalCode}</idBrokerPA>` +
    `<idStation>${NODE_CALLER.stationId}</idStation>`
  );
}

function paForNodeEnvelope(element: string, children: string): string {
  return (
    `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ` +
    `xmlns:pafn="http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd"><soapenv:Body>` +
    `<pafn:${element}>${identity()}${children}</pafn:${element}></soapenv:Body></soapenv:Envelope>`
  );
}

function qrCode(n: Notice): string {
  return `<qrCode><fiscalCode>${EC}</fiscalCode><noticeNumber>${n.noticeNumber}</noticeNumber></qrCode>`;
}

function paVerifyPaymentNotice(url: string, n: Notice) {
  return soapPost(
    `${url}${PA_FOR_NODE}`,
    'paVerifyPaymentNotice',
    paForNodeEnvelope('paVerifyPaymentNoticeReq', qrCode(n)),
  );
}

function paGetPayment(url: string, n: Notice) {
  return soapPost(`${url}${PA_FOR_NODE}`, 'paGetPayment', paForNodeEnvelope('paGetPaymentReq', qrCode(n)));
}

/** A receipt of a successful payment of the notice, for its full amount, by a PSP. */
function paSendRT(url: string, n: Notice, receiptId: string, psp = 'BCITITMM') {
  const amount = euros(n.amountCents);
  const receipt =
    `<receipt><receiptId>${receiptId}</receiptId><noticeNumber>${n.noticeNumber}</noticeNumber>` +
    `<fiscalCode>${EC}</fiscalCode><outcome>OK</outcome><creditorReferenceId>${n.iuv}</creditorReferenceId>` +
    `<paymentAmount>${amount}</paymentAmount><description>TARI 2027 ${n.positionId}</description>` +
    `<companyName>Comune di Esempio</companyName><debtor><uniqueIdentifier>` +
    `<entityUniqueIdentifierType>F</entityUniqueIdentifierType>` +
    `<entityUniqueIdentifierValue>RSSMRA85T10A562S</entityUniqueIdentifierValue></uniqueIdentifier>` +
    `<fullName>Mario Rossi</fullName></debtor><transferList><transfer><idTransfer>1</idTransfer>` +
    `<transferAmount>${amount}</transferAmount><fiscalCodePA>${EC}</fiscalCodePA><IBAN>${IBAN}</IBAN>` +
    `<remittanceInformation>/RFB/${n.iuv}/${amount}</remittanceInformation>` +
    `<transferCategory>0101101IM</transferCategory></transfer></transferList><idPSP>${psp}</idPSP>` +
    `<PSPCompanyName>PSP ${psp}</PSPCompanyName><idChannel>${psp}_01</idChannel>` +
    `<channelDescription>app</channelDescription><paymentDateTime>2027-01-15T10:00:00</paymentDateTime>` +
    `</receipt>`;
  return soapPost(`${url}${PA_FOR_NODE}`, 'paSendRT', paForNodeEnvelope('paSendRTReq', receipt));
}

/** Legacy model 3 activation of the notice by a PSP with its own CCP. */
function paaAttivaRPT(url: string, n: Notice, ccp: string, psp: string) {
  const envelope =
    `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" ` +
    `xmlns:ppt="http://ws.pagamenti.telematici.gov/" xmlns:ppthead="http://ws.pagamenti.telematici.gov/ppthead">` +
    `<soapenv:Header><ppthead:intestazionePPT>` +
    `<identificativoIntermediarioPA>${NODE_CALLER.brokerFiscalCode}</identificativoIntermediarioPA>` +
    `<identificativoStazioneIntermediarioPA>${NODE_CALLER.stationId}</identificativoStazioneIntermediarioPA>` +
    `<identificativoDominio>${EC}</identificativoDominio>` +
    `<identificativoUnivocoVersamento>${n.iuv}</identificativoUnivocoVersamento>` +
    `<codiceContestoPagamento>${ccp}</codiceContestoPagamento></ppthead:intestazionePPT></soapenv:Header>` +
    `<soapenv:Body><ppt:paaAttivaRPT><identificativoPSP>${psp}</identificativoPSP>` +
    `<datiPagamentoPSP><importoSingoloVersamento>${euros(n.amountCents)}</importoSingoloVersamento>` +
    `</datiPagamentoPSP><identificativoIntermediarioPSP>88888888888</identificativoIntermediarioPSP>` +
    `<identificativoCanalePSP>88888888888_01</identificativoCanalePSP></ppt:paaAttivaRPT></soapenv:Body>` +
    `</soapenv:Envelope>`;
  return soapPost(`${url}${PA_PER_NODO_PSP}`, 'paaAttivaRPT', envelope);
}

const receiptIdOf = () => randomBytes(16).toString('hex');

async function countRows(db: Knex, table: string, where: Record<string, unknown> = {}): Promise<number> {
  const [row] = await db(table).where(where).count<{ n: number | string }[]>({ n: '*' });
  return Number(row?.n ?? 0);
}

/** Polls until check() is true (no fixed sleeps as synchronisation); fails with `what` after timeoutMs. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function uploadItems(prefix: string, count: number, amountCents: (i: number) => number) {
  return Array.from({ length: count }, (_, i) =>
    insertItem(positionArgs(`${prefix}-${i + 1}`, [{ installment: 0, amountCents: amountCents(i) }])),
  );
}

interface ItemAnswer {
  positionId: string;
  outcome: string;
  notice?: { iuv: string; noticeNumber: string } | Array<{ iuv: string; noticeNumber: string }>;
}

function itemsOf(answer: Answer): ItemAnswer[] {
  return list(answer.itemOutcome as ItemAnswer | ItemAnswer[] | undefined);
}

describe('[postgres] four connector processes on one database (issue 10: concurrency)', function () {
  this.timeout(STRESS ? 600_000 : 90_000);
  let cluster: Cluster;
  let gestionale: TestGestionale;
  let clients: GestionaleClient[];
  let rr: RoundRobin<number>;
  let enteId: number;

  before(async function () {
    const problem = await postgresProblem(clusterPostgresUrl());
    if (problem !== null) {
      if (process.env.CI === 'true')
        throw new Error(`PostgreSQL is required (CI=true) but unreachable: ${problem}`);
      process.stdout.write(
        `\n${'!'.repeat(78)}\n!! SKIPPED: the 4-process PostgreSQL concurrency suite (${problem})\n` +
          `!! Start PostgreSQL at ${clusterPostgresUrl()} or set PPAY_TEST_POSTGRES_URL; CI=true makes this fail.\n` +
          `${'!'.repeat(78)}\n`,
      );
      this.skip();
    }
    gestionale = await TestGestionale.start();
    cluster = await startCluster({
      size: PROCESSES,
      env: {
        // Only notifyExpiredNotices, every minute: each process ticks it at start-up (item 4).
        PPAY_JOB_SCHEDULE:
          'notifyExpiredNotices=* * * * *;reconcile=off;reconciliationExport=off;paymentsExport=off;expiredNoticesExport=off',
        PPAY_OUTBOX_POLL_MS: '200',
      },
      seed: async (store, db) => {
        await seedDemo(store);
        await setClientEndpoints(store, { username: DEMO.username, callbackUrl: gestionale.url });
        // Multe notices reserved 40 days ago and never activated: the nightly job's work.
        const ente = (await store.enti.getByFiscalCode(EC))!;
        const multe = (await store.services.listByEnte(ente.id)).find((s) => s.code === 'MULTE')!;
        const client = (await store.clients.findByUsername(DEMO.username))!;
        const longAgo = new Date(Date.now() - 40 * DAY_MS);
        await reserveNotices(createStore(db, { clock: () => longAgo }), {
          ente,
          service: multe,
          caller: { clientId: client.id, actor: GESTIONALE_ACTOR, serviceIds: [multe.id] },
          count: RESERVED,
        });
      },
    });
    enteId = (await cluster.store.enti.getByFiscalCode(EC))!.id;
    clients = await Promise.all(cluster.urls.map((url) => gestionaleClient({ url, close: async () => {} })));
    rr = new RoundRobin(clients.map((_, i) => i));
  });

  afterEach(function () {
    // A failure shows what the processes printed (their errors go to stderr).
    if (this.currentTest?.state === 'failed' && cluster) {
      const exits = cluster.processes.map((p, i) => `process ${i}: exit ${p.child.exitCode}`).join(', ');
      process.stdout.write(`\n${exits}\n${cluster.output().slice(-20_000)}\n`);
    }
  });

  after(async () => {
    await cluster?.stop();
    await gestionale?.stop();
  });

  /** Uploads positions through one process and reads their notices back from the database. */
  async function uploadNotices(count: number, through: number): Promise<Notice[]> {
    const prefix = uid('PAY');
    const answer = await clients[through]!.call(
      'uploadDebtPositions',
      uploadArgs(
        uid('msg'),
        uploadItems(prefix, count, (i) => 1000 + i * 7),
      ),
    );
    expectOk(answer);
    const rows: Array<{ position_id: string; iuv: string; notice_number: string; amount_cents: string }> =
      await cluster
        .db('payment_options as o')
        .join('positions as p', 'p.id', 'o.position_id')
        .where('p.position_id', 'like', `${prefix}-%`)
        .select('p.position_id', 'o.iuv', 'o.notice_number', 'o.amount_cents');
    expect(rows).to.have.length(count);
    return rows.map((r) => ({
      positionId: r.position_id,
      iuv: r.iuv,
      noticeNumber: r.notice_number,
      amountCents: Number(r.amount_cents),
    }));
  }

  /** Every IUV and notice number of the ente exists once in the register and once among the options. */
  async function expectNoDuplicateNumbers(): Promise<void> {
    for (const table of ['iuv_allocations', 'payment_options']) {
      const [row] = await cluster
        .db(table)
        .where({ ente_id: enteId })
        .select(
          cluster.db.raw('count(*)::int as total'),
          cluster.db.raw('count(distinct iuv)::int as iuvs'),
          cluster.db.raw('count(notice_number)::int as numbered'),
          cluster.db.raw('count(distinct notice_number)::int as notices'),
        );
      expect(row.iuvs, `${table}: distinct IUVs`).to.equal(row.total);
      expect(row.notices, `${table}: distinct notice numbers`).to.equal(row.numbered);
    }
  }

  /** The applied / flagged receipts, attempts and PAID events of one notice. */
  async function paymentFacts(n: Notice) {
    const receipts = await cluster.db('receipts').where({ ente_id: enteId, iuv: n.iuv });
    const option = await cluster.db('payment_options').where({ ente_id: enteId, iuv: n.iuv }).first();
    const position = await cluster.db('positions').where({ id: option.position_id }).first();
    const optionPaidEvents = await countRows(cluster.db, 'events', {
      entity_type: 'payment_option',
      entity_id: String(option.id),
      to_status: 'PAID',
    });
    const positionPaidEvents = await countRows(cluster.db, 'events', {
      entity_type: 'position',
      entity_id: String(position.id),
      to_status: 'PAID',
    });
    const attempts = await cluster.db('payments').where({ ente_id: enteId, iuv: n.iuv });
    const notifications = (await cluster.store.outbox.list()).filter(
      (m) => m.topic === NOTIFY_PAYMENT && (m.payload as { iuv?: string }).iuv === n.iuv,
    );
    return {
      receipts,
      applied: receipts.filter((r: { option_id: unknown }) => r.option_id !== null),
      optionStatus: option.status as string,
      positionStatus: position.status as string,
      optionPaidEvents,
      positionPaidEvents,
      attempts,
      notifications,
    };
  }

  it(`serves ${IUV_REQUESTS} requestIUV, ${UPLOADS} uploads of ${POSITIONS_PER_UPLOAD} and ${PAYMENTS} payments at once with no number, position or payment twice`, async () => {
    const payable = await uploadNotices(PAYMENTS, 0);
    const prefix = uid('LOAD');
    const iuvCalls = Array.from({ length: IUV_REQUESTS }, () =>
      clients[rr.next()]!.call('requestIUV', { enteFiscalCode: EC, serviceCode: 'TARI' }),
    );
    const uploadCalls = Array.from({ length: UPLOADS }, (_, u) =>
      clients[rr.next()]!.call(
        'uploadDebtPositions',
        uploadArgs(
          uid('msg'),
          uploadItems(`${prefix}-${u + 1}`, POSITIONS_PER_UPLOAD, (i) => 500 + i),
        ),
      ),
    );
    // Each payment's three steps go to three different processes, as the node's retries may.
    const paymentCalls = payable.map(async (n, i) => {
      const verified = await paVerifyPaymentNotice(cluster.urls[i % PROCESSES]!, n);
      const activated = await paGetPayment(cluster.urls[(i + 1) % PROCESSES]!, n);
      const received = await paSendRT(cluster.urls[(i + 2) % PROCESSES]!, n, receiptIdOf());
      return [verified, activated, received];
    });
    const [iuvAnswers, uploadAnswers, paymentAnswers] = await Promise.all([
      Promise.all(iuvCalls),
      Promise.all(uploadCalls),
      Promise.all(paymentCalls),
    ]);

    // requestIUV: all OK, no number twice in the answers nor in the register.
    for (const a of iuvAnswers) expectOk(a);
    const iuvs = iuvAnswers.map((a) => String(a.iuv));
    const noticeNumbers = iuvAnswers.map((a) => String(a.noticeNumber));
    expect(new Set(iuvs).size, 'distinct IUVs answered').to.equal(IUV_REQUESTS);
    expect(new Set(noticeNumbers).size, 'distinct notice numbers answered').to.equal(IUV_REQUESTS);
    const registered = await cluster
      .db('iuv_allocations')
      .where({ ente_id: enteId, purpose: 'request' })
      .whereIn('iuv', iuvs)
      .select('iuv', 'notice_number');
    expect(registered).to.have.length(IUV_REQUESTS);
    expect(new Set(registered.map((r: { notice_number: string }) => r.notice_number))).to.deep.equal(
      new Set(noticeNumbers),
    );

    // Uploads: every item OK, every position stored once with its own notice.
    for (const a of uploadAnswers) {
      expectOk(a);
      expect(itemsOf(a).map((i) => i.outcome)).to.deep.equal(Array(POSITIONS_PER_UPLOAD).fill('OK'));
    }
    const stored: Array<{ position_id: string; n: string }> = await cluster
      .db('positions')
      .where({ ente_id: enteId })
      .andWhere('position_id', 'like', `${prefix}-%`)
      .groupBy('position_id')
      .select('position_id', cluster.db.raw('count(*) as n'));
    expect(stored).to.have.length(UPLOADS * POSITIONS_PER_UPLOAD);
    expect(stored.every((r) => Number(r.n) === 1)).to.equal(true);
    await expectNoDuplicateNumbers();

    // Payments: every step OK, each position PAID once by one applied receipt and one attempt.
    for (const steps of paymentAnswers) {
      for (const s of steps)
        expect([s.status, s.outcome, s.faultCode], s.text).to.deep.equal([200, 'OK', null]);
    }
    for (const n of payable) {
      const facts = await paymentFacts(n);
      expect(facts.positionStatus, n.positionId).to.equal('PAID');
      expect(facts.receipts, n.positionId).to.have.length(1);
      expect(facts.applied, n.positionId).to.have.length(1);
      expect(Number(facts.applied[0].amount_cents), n.positionId).to.equal(n.amountCents);
      expect(
        facts.attempts.map((a: { status: string }) => a.status),
        n.positionId,
      ).to.deep.equal(['PAID']);
      expect([facts.optionPaidEvents, facts.positionPaidEvents], n.positionId).to.deep.equal([1, 1]);
      expect(facts.notifications, n.positionId).to.have.length(1);
    }

    // The unique constraints themselves refuse a copy of an issued number (NOTICE_DUPLICATE).
    const [taken] = registered as Array<{ iuv: string; notice_number: string }>;
    const copy = await cluster.store.iuv
      .record([{ enteId, iuv: taken!.iuv, noticeNumber: `3${'9'.repeat(17)}`, purpose: 'request' }])
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(isDomainError(copy, 'NOTICE_DUPLICATE'), String(copy)).to.equal(true);

    // notifyPayment: each queued notification reaches the gestionale, once, with its stable id.
    const queued = (await cluster.store.outbox.list()).filter((m) => m.topic === NOTIFY_PAYMENT);
    await eventually('every notifyPayment delivered', async () =>
      queued.every((m) => gestionale.receivedFor(m.id).length > 0),
    );
    for (const m of queued) expect(gestionale.receivedFor(m.id), m.id).to.have.length(1);
  });

  it('answers one messageId sent to every process at once with one upload and one set of positions', async () => {
    const messages = Array.from({ length: REPLAYED_UPLOADS }, () => ({
      messageId: uid('replay'),
      prefix: uid('REPLAY'),
    }));
    const answers = await Promise.all(
      messages.map(({ messageId, prefix }) =>
        Promise.all(
          clients.map((client) =>
            client.call(
              'uploadDebtPositions',
              uploadArgs(
                messageId,
                uploadItems(prefix, POSITIONS_PER_UPLOAD, (i) => 900 + i),
              ),
            ),
          ),
        ),
      ),
    );
    for (const [m, same] of answers.entries()) {
      const { messageId, prefix } = messages[m]!;
      for (const a of same) expectOk(a);
      // Every process answers the first outcome: the same upload, the same notices.
      const first = same[0]!;
      for (const a of same.slice(1)) {
        expect(a.uploadId, messageId).to.equal(first.uploadId);
        expect(itemsOf(a), messageId).to.deep.equal(itemsOf(first));
      }
      expect(await countRows(cluster.db, 'uploads', { ente_id: enteId, message_id: messageId })).to.equal(1);
      const positions = await cluster
        .db('positions')
        .where({ ente_id: enteId })
        .andWhere('position_id', 'like', `${prefix}-%`);
      expect(positions, messageId).to.have.length(POSITIONS_PER_UPLOAD);
    }
    await expectNoDuplicateNumbers();

    // The same messageId with other content, on any process, is refused (PPAY_MESSAGE_DUPLICATE).
    const { messageId, prefix } = messages[0]!;
    const other = await clients[1]!.call(
      'uploadDebtPositions',
      uploadArgs(
        messageId,
        uploadItems(prefix, POSITIONS_PER_UPLOAD, (i) => 901 + i),
      ),
    );
    expectKo(other, 'PPAY_MESSAGE_DUPLICATE');

    // requestIUV with one requestId on every process at once: every process answers the same number.
    const requestId = uid('req');
    const same = await Promise.all(
      clients.flatMap((client) =>
        [0, 1].map(() => client.call('requestIUV', { enteFiscalCode: EC, serviceCode: 'TARI', requestId })),
      ),
    );
    for (const a of same) expectOk(a);
    expect(new Set(same.map((a) => `${String(a.iuv)}/${String(a.noticeNumber)}`)).size).to.equal(1);
    expect(
      await countRows(cluster.db, 'gestionale_requests', { ente_id: enteId, request_id: requestId }),
    ).to.equal(1);
  });

  it('lets exactly one payment win when one notice is activated and paid twice at the same time', async () => {
    const contested = await uploadNotices(CONTESTED * 2, 2);
    const current = contested.slice(0, CONTESTED);
    const legacy = contested.slice(CONTESTED);

    // Current model: paGetPayment of one notice through every process at once is one attempt.
    const activations = await Promise.all(
      current.map((n) => Promise.all(cluster.urls.map((url) => paGetPayment(url, n)))),
    );
    for (const [i, answers] of activations.entries()) {
      for (const a of answers) expect([a.status, a.outcome], a.text).to.deep.equal([200, 'OK']);
      const attempts = await cluster.db('payments').where({ ente_id: enteId, iuv: current[i]!.iuv });
      expect(
        attempts.map((a: { status: string }) => a.status),
        current[i]!.positionId,
      ).to.deep.equal(['IN_PROGRESS']);
    }

    // Two receipts (two PSPs) of one notice on two processes at once: one pays, the other is kept flagged.
    const receipts = await Promise.all(
      current.map((n, i) =>
        Promise.all([
          paSendRT(cluster.urls[i % PROCESSES]!, n, receiptIdOf(), 'PSPAITMM'),
          paSendRT(cluster.urls[(i + 1) % PROCESSES]!, n, receiptIdOf(), 'PSPBITMM'),
        ]),
      ),
    );
    for (const [i, pair] of receipts.entries()) {
      const n = current[i]!;
      for (const a of pair)
        expect([a.status, a.outcome, a.faultCode], a.text).to.deep.equal([200, 'OK', null]);
      const facts = await paymentFacts(n);
      expect(facts.receipts, n.positionId).to.have.length(2);
      expect(facts.applied, n.positionId).to.have.length(1);
      expect(Number(facts.applied[0].amount_cents), n.positionId).to.equal(n.amountCents);
      const loser = facts.receipts.find((r: { option_id: unknown }) => r.option_id === null);
      expect(loser?.flagged_reason, n.positionId).to.equal('DOUBLE_PAYMENT');
      expect([facts.optionStatus, facts.positionStatus], n.positionId).to.deep.equal(['PAID', 'PAID']);
      expect([facts.optionPaidEvents, facts.positionPaidEvents], n.positionId).to.deep.equal([1, 1]);
      expect(
        facts.attempts.map((a: { status: string }) => a.status),
        n.positionId,
      ).to.deep.equal(['PAID']);
      expect(facts.notifications, n.positionId).to.have.length(1);
    }

    // Legacy model 3: two PSPs activate one notice with their own CCPs at once: one wins, the other
    // is KO PAA_PAGAMENTO_IN_CORSO, and one attempt is recorded.
    const legacyAnswers = await Promise.all(
      legacy.map((n, i) =>
        Promise.all([
          paaAttivaRPT(cluster.urls[i % PROCESSES]!, n, `CCPA${i}${Date.now()}`, 'PSPAITMM'),
          paaAttivaRPT(cluster.urls[(i + 1) % PROCESSES]!, n, `CCPB${i}${Date.now()}`, 'PSPBITMM'),
        ]),
      ),
    );
    for (const [i, pair] of legacyAnswers.entries()) {
      const n = legacy[i]!;
      expect(pair.every((a) => a.status === 200)).to.equal(true);
      const outcomes = pair.map((a) => `${a.outcome}${a.faultCode ? ` ${a.faultCode}` : ''}`).sort();
      expect(outcomes, `${n.positionId}: ${pair.map((a) => a.text).join('\n')}`).to.deep.equal([
        'KO PAA_PAGAMENTO_IN_CORSO',
        'OK',
      ]);
      const attempts = await cluster.db('payments').where({ ente_id: enteId, iuv: n.iuv, kind: 'rpt' });
      expect(attempts, n.positionId).to.have.length(1);
    }
  });

  it('runs the nightly job slot once while every process ticks the scheduler', async () => {
    const job = 'notifyExpiredNotices';
    await eventually('the start-up slot done', async () => {
      const runs = await cluster.store.jobRuns.listScheduled(job);
      return runs.length > 0 && runs.every((r) => r.status === 'done');
    });
    const runs = await cluster.store.jobRuns.listScheduled(job);
    // Each slot once (a slot of the next minute may have come while the processes started).
    expect(new Set(runs.map((r) => r.runKey)).size).to.equal(runs.length);
    for (const r of runs) {
      expect([r.status, r.attempts], r.runKey).to.deep.equal(['done', 1]);
      expect(
        cluster.pids.some((pid) => r.owner.includes(`:${pid}:`)),
        r.owner,
      ).to.equal(true);
    }
    const summaries = runs.map(
      (r) => JSON.parse(r.summary ?? '{}') as { expired?: number; notifications?: number },
    );
    expect(
      summaries.reduce((sum, s) => sum + (s.expired ?? 0), 0),
      'reservations expired',
    ).to.equal(RESERVED);
    expect(
      summaries.reduce((sum, s) => sum + (s.notifications ?? 0), 0),
      'notifications',
    ).to.equal(1);
    const expiredEvents = await countRows(cluster.db, 'events', {
      entity_type: 'position',
      to_status: 'EXPIRED',
    });
    expect(expiredEvents).to.equal(RESERVED);
    const reports = (await cluster.store.outbox.list()).filter((m) => m.topic === NOTIFY_EXPIRED_NOTICES);
    expect(reports).to.have.length(1);
    await eventually(
      'the expired-notices report delivered',
      async () => gestionale.receivedFor(reports[0]!.id).length > 0,
    );
    expect(gestionale.receivedFor(reports[0]!.id)).to.have.length(1);
  });
});
