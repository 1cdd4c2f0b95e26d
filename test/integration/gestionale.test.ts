// Gestionale use cases against the real databases, where SOAP adds nothing: the upload worker
// resuming an interrupted upload (and respecting another instance's lock), concurrent retries of
// one messageId / requestId, numbers from several connections at once, and the nightly report of
// reserved notices never activated (once, under the job lock).

import { expect } from 'chai';
import { forEachDatabase } from '../support/db.ts';
import { seedDemo } from '../../src/app/seedDemo.ts';
import { createStore, type Store } from '../../src/db/store.ts';
import type { Ente } from '../../src/db/repositories/enti.ts';
import type { Service } from '../../src/db/repositories/services.ts';
import { isDomainError } from '../../src/domain/errors.ts';
import { verifyPaymentNotice } from '../../src/app/pagopa/payments.ts';
import type { GestionaleCaller } from '../../src/app/gestionale/common.ts';
import { requestIuvs } from '../../src/app/gestionale/requestIuv.ts';
import { reserveNotices } from '../../src/app/gestionale/reserveNotices.ts';
import { activateNotice } from '../../src/app/gestionale/activateNotice.ts';
import {
  NOTIFY_UPLOAD_OUTCOME,
  processUpload,
  uploadDebtPositions,
} from '../../src/app/gestionale/uploads.ts';
import type { UploadItemInput } from '../../src/app/gestionale/uploadItems.ts';
import { UploadWorker } from '../../src/app/gestionale/uploadWorker.ts';
import {
  EXPIRED_NOTICES_JOB,
  NOTIFY_EXPIRED_NOTICES,
  reportExpiredReservations,
} from '../../src/app/gestionale/expiredReservations.ts';

const EC = '01234567897';
const IBAN = 'IT92F0306901000100000046001';
const NODE_CALLER = { enteFiscalCode: EC, brokerFiscalCode: '12345678903', stationId: '12345678903_01' };
const DAY_MS = 24 * 3600 * 1000;

let counter = 0;
function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}

function insert(positionId: string, amountCents = 1000): UploadItemInput {
  return {
    action: 'INSERT',
    position: {
      draft: {
        positionId,
        description: `TARI ${positionId}`,
        debtor: { type: 'F', fiscalCode: 'RSSMRA85T10A562S', fullName: 'Mario Rossi' },
        options: [
          {
            installment: 0,
            amountCents: String(amountCents),
            dueDate: '2027-06-30',
            transfers: [{ amountCents: String(amountCents), iban: IBAN, category: '9/0101101IM/' }],
          },
        ],
      },
      iuvs: [null],
      metadata: [],
    },
  };
}

async function count(store: Store, table: string): Promise<number> {
  const [row] = await store.db(table).count<{ n: number | string }[]>({ n: '*' });
  return Number(row?.n ?? 0);
}

forEachDatabase('gestionale use cases', (ctx) => {
  /**
   * Stores on separate connections, as separate processes would have. SQLite runs one connection
   * per process (better-sqlite3 busy-waits synchronously, so two in one event loop deadlock): there
   * the calls share the suite's connection and still run concurrently at every await.
   */
  function separateStores(n: number): Store[] {
    return Array.from({ length: n }, () =>
      ctx.dialect === 'sqlite' ? ctx.store : createStore(ctx.connect()),
    );
  }

  let ente: Ente;
  let tari: Service;
  let multe: Service;
  let caller: GestionaleCaller;

  before(async () => {
    await seedDemo(ctx.store);
    ente = (await ctx.store.enti.getByFiscalCode(EC))!;
    tari = (await ctx.store.services.get(ente.id, 'TARI'))!;
    multe = (await ctx.store.services.get(ente.id, 'MULTE'))!;
    const client = (await ctx.store.clients.findByUsername('demo-gestionale'))!;
    const bindings = await ctx.store.clients.bindings(client.id);
    caller = { clientId: client.id, actor: 'gestionale:demo-gestionale', serviceIds: bindings.serviceIds };
  });

  describe('upload worker', () => {
    async function accepted(items: UploadItemInput[]) {
      const answer = await uploadDebtPositions(
        ctx.store,
        { ente, service: tari, caller, messageId: uid('msg'), items },
        { syncMaxItems: 1, onAccepted: () => undefined },
      );
      expect(answer.upload.status).to.equal('ACCEPTED');
      return answer.upload;
    }

    it('finishes an upload interrupted between chunks without applying any item twice', async () => {
      const ids = [1, 2, 3, 4, 5].map(() => uid('POS'));
      const upload = await accepted(ids.map((id) => insert(id)));
      const crash = new Error('killed after the first chunk');
      const interrupted = await processUpload(ctx.store, upload.id, {
        chunkSize: 2,
        onChunk: () => Promise.reject(crash),
      }).catch((err: unknown) => err);
      expect(interrupted).to.equal(crash);
      const halfway = await ctx.store.uploads.get(upload.id);
      expect(halfway!.status).to.equal('PROCESSING');
      expect(await ctx.store.uploads.countOutcomes(upload.id)).to.deep.equal({ ok: 2, ko: 0 });

      // A new process: its worker picks the unfinished upload up.
      const worker = new UploadWorker(separateStores(1)[0]!, { chunkSize: 2 });
      worker.kick();
      await worker.idle();
      const done = await ctx.store.uploads.get(upload.id);
      expect(done).to.include({ status: 'PROCESSED', okCount: 5, koCount: 0 });
      for (const id of ids) {
        const position = await ctx.store.positions.findByPositionId(ente.id, id);
        expect(position, id).to.not.equal(null);
        expect((await ctx.store.events.listFor('position', position!.id)).map((e) => e.action)).to.deep.equal(
          ['created'],
        );
      }
      const notifications = (await ctx.store.outbox.list()).filter(
        (m) =>
          m.topic === NOTIFY_UPLOAD_OUTCOME && (m.payload as { uploadId: string }).uploadId === upload.id,
      );
      expect(notifications).to.have.length(1);
    });

    it('leaves an upload alone while another instance holds its lock', async () => {
      const upload = await accepted([insert(uid('POS')), insert(uid('POS'))]);
      expect(await ctx.store.locks.acquire(`upload:${upload.id}`, 'other-instance', 60_000)).to.equal(true);
      const worker = new UploadWorker(ctx.store, { owner: 'this-instance' });
      await worker.runOnce();
      expect((await ctx.store.uploads.get(upload.id))!.status).to.equal('ACCEPTED');
      await ctx.store.locks.release(`upload:${upload.id}`, 'other-instance');
      await worker.runOnce();
      expect((await ctx.store.uploads.get(upload.id))!.status).to.equal('PROCESSED');
    });

    it('answers two concurrent sends of one message with one upload and one set of positions', async () => {
      const messageId = uid('msg');
      const positionId = uid('POS');
      const request = { ente, service: tari, caller, messageId, items: [insert(positionId)] };
      const stores = separateStores(2);
      const [a, b] = await Promise.all(stores.map((s) => uploadDebtPositions(s, request)));
      expect(a!.upload.id).to.equal(b!.upload.id);
      expect(a!.items).to.deep.equal(b!.items);
      const rows = await ctx.db('positions').where({ ente_id: ente.id, position_id: positionId });
      expect(rows).to.have.length(1);
    });
  });

  describe('numbers from several connections at once', () => {
    it('never hands out one notice twice to four concurrent requestIUVBatch callers', async () => {
      const stores = separateStores(4);
      const batches = await Promise.all(
        stores.map((s) =>
          requestIuvs(s, { ente, service: tari, caller, count: 250, operation: 'requestIUVBatch' }),
        ),
      );
      const all = batches.flat().map((n) => n.noticeNumber);
      expect(all).to.have.length(1000);
      expect(new Set(all).size).to.equal(1000);
    });

    it('gives two concurrent reservations with one requestId the same notices, reserved once', async () => {
      const requestId = uid('shift');
      const stores = separateStores(2);
      const before = await count(ctx.store, 'positions');
      const [a, b] = await Promise.all(
        stores.map((s) => reserveNotices(s, { ente, service: multe, caller, count: 10, requestId })),
      );
      expect(a).to.deep.equal(b);
      expect((await count(ctx.store, 'positions')) - before).to.equal(10);
    });
  });

  describe('reportExpiredReservations (notifyExpiredNotices)', () => {
    const now = new Date();
    const longAgo = new Date(now.getTime() - 10 * DAY_MS);

    it('expires reservations older than N days once, with one outbox row per client, ente and service', async () => {
      const past = ctx.storeWith({ clock: () => longAgo });
      const old = await reserveNotices(past, { ente, service: multe, caller, count: 3 });
      const [activated] = await reserveNotices(past, { ente, service: multe, caller, count: 1 });
      await activateNotice(ctx.store, {
        ente,
        caller,
        noticeNumber: activated!.noticeNumber,
        ticketNumber: 'T-1',
        plate: 'AB123CD',
        amountCents: 4200,
        dueDate: '2027-06-30',
      });
      const recent = await reserveNotices(ctx.store, { ente, service: multe, caller, count: 2 });

      const result = await reportExpiredReservations(ctx.store, { olderThanDays: 7, now });
      expect(result).to.deep.include({ status: 'DONE', expired: 3, notifications: 1 });
      for (const n of old) {
        const position = await ctx.store.positions.findByNoticeNumber(ente.id, n.noticeNumber);
        expect(position!.status).to.equal('EXPIRED');
        const error = await verifyPaymentNotice(ctx.store, {
          caller: NODE_CALLER,
          fiscalCode: EC,
          noticeNumber: n.noticeNumber,
        }).catch((err: unknown) => err);
        expect(isDomainError(error, 'POSITION_EXPIRED')).to.equal(true);
      }
      for (const n of recent) {
        expect((await ctx.store.positions.findByNoticeNumber(ente.id, n.noticeNumber))!.status).to.equal(
          'RESERVED',
        );
      }
      const rows = (await ctx.store.outbox.list()).filter((m) => m.topic === NOTIFY_EXPIRED_NOTICES);
      expect(rows).to.have.length(1);
      const payload = rows[0]!.payload as {
        notificationId: string;
        serviceCode: string;
        notice: Array<{ noticeNumber: string; reason: string }>;
      };
      expect(rows[0]!.target).to.equal(String(caller.clientId));
      expect(payload.notificationId).to.equal(rows[0]!.id);
      expect(payload.serviceCode).to.equal('MULTE');
      expect(payload.notice.map((n) => n.noticeNumber).sort()).to.deep.equal(
        old.map((n) => n.noticeNumber).sort(),
      );
      expect(payload.notice.every((n) => n.reason === 'NOT_ACTIVATED')).to.equal(true);

      const again = await reportExpiredReservations(ctx.store, { olderThanDays: 7, now });
      expect(again).to.deep.include({ status: 'DONE', expired: 0, notifications: 0 });
      expect(
        (await ctx.store.outbox.list()).filter((m) => m.topic === NOTIFY_EXPIRED_NOTICES),
      ).to.have.length(1);
    });

    it('does nothing while another instance holds the job lock, and reports once when two run together', async () => {
      const past = ctx.storeWith({ clock: () => longAgo });
      await reserveNotices(past, { ente, service: multe, caller, count: 2 });
      const rowsBefore = (await ctx.store.outbox.list()).filter(
        (m) => m.topic === NOTIFY_EXPIRED_NOTICES,
      ).length;

      expect(await ctx.store.locks.acquire(EXPIRED_NOTICES_JOB, 'other-instance', 60_000)).to.equal(true);
      const locked = await reportExpiredReservations(ctx.store, {
        olderThanDays: 7,
        now,
        owner: 'this-instance',
      });
      expect(locked).to.deep.include({ status: 'LOCKED', expired: 0, notifications: 0 });
      await ctx.store.locks.release(EXPIRED_NOTICES_JOB, 'other-instance');

      const stores = separateStores(2);
      const results = await Promise.all(
        stores.map((s, i) => reportExpiredReservations(s, { olderThanDays: 7, now, owner: `instance-${i}` })),
      );
      expect(results.reduce((sum, r) => sum + r.expired, 0)).to.equal(2);
      expect(results.reduce((sum, r) => sum + r.notifications, 0)).to.equal(1);
      const rowsAfter = (await ctx.store.outbox.list()).filter(
        (m) => m.topic === NOTIFY_EXPIRED_NOTICES,
      ).length;
      expect(rowsAfter - rowsBefore).to.equal(1);
    });
  });
});
