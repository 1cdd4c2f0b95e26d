// Positions repository: atomic insert of position + options + transfers + event, lookups, state
// transitions through the domain state machine (one event each, atomically), optimistic locking,
// option statuses and edits.

import Database from 'better-sqlite3';
import { expect } from 'chai';
import type { Knex } from 'knex';
import type { PositionHeader, StoredPosition } from '../../src/db/repositories/positions.ts';
import { createStore, type Store } from '../../src/db/store.ts';
import { forEachDatabase, seedEnte, TEST_IBAN, type DbContext, type SeededEnte } from '../support/db.ts';
import { allocateNotices, CHANGE, DEBTOR, expectRejection, samplePosition } from './helpers.ts';

interface Fixture extends SeededEnte {
  position: StoredPosition;
}

async function insertPosition(store: Store, seeded?: SeededEnte, installments = 0): Promise<Fixture> {
  const s = seeded ?? (await seedEnte(store));
  const draft = samplePosition(s.ente.fiscalCode, installments);
  const notices = await allocateNotices(store, s.ente.id, draft.options.length);
  const position = await store.positions.insert(s.ente.id, s.service.id, draft, { notices, ...CHANGE });
  return { ...s, position };
}

async function headerRow(
  db: Knex,
  id: number,
): Promise<Pick<PositionHeader, 'status' | 'version' | 'updatedAt'>> {
  const row = (await db('positions').where({ id }).first('status', 'version', 'updated_at')) as {
    status: PositionHeader['status'];
    version: number | string;
    updated_at: string;
  };
  return { status: row.status, version: Number(row.version), updatedAt: row.updated_at };
}

async function count(db: Knex, table: string, where: Record<string, unknown>): Promise<number> {
  const [row] = await db(table).where(where).count({ n: '*' });
  return Number(row?.n);
}

/** A clock the test moves by hand, so updated_at changes are visible. */
function steppingClock(): { clock: () => Date; advance: () => void } {
  let now = Date.parse('2030-01-01T10:00:00.000Z');
  return { clock: () => new Date(now), advance: () => (now += 1_000) };
}

/**
 * Makes a concurrent writer bump the position's version between the repository's read and its guarded
 * UPDATE, then runs `write`. SQLite: a second handle writes synchronously when Knex announces the
 * UPDATE. PostgreSQL: a second connection holds the row lock and commits while the UPDATE waits on it.
 */
async function withInterleavedWrite<T>(
  ctx: DbContext,
  id: number,
  write: (store: Store) => Promise<T>,
): Promise<T> {
  const db = ctx.connect();
  return interleaveOnPostgres(ctx, db, id, write);
}

/**
 * On SQLite every outermost transaction takes the write lock before its first read (src/db/knex.ts
 * takeSqliteWriteLock), so another writer cannot commit between the read and the update: its write
 * is refused as busy and the transition goes through. Returns whether the other write was refused.
 */
async function interleaveOnSqlite<T>(
  file: string,
  db: Knex,
  id: number,
  write: (store: Store) => Promise<T>,
): Promise<{ result: T; otherRefused: boolean }> {
  const other = new Database(file, { timeout: 50 });
  let done = false;
  let otherRefused = false;
  db.on('query', (query: { sql: string }) => {
    if (done || !/^update [`"]positions[`"]/.test(query.sql)) return;
    done = true;
    try {
      other.prepare('update positions set version = version + 1 where id = ?').run(id);
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
      otherRefused = true;
    }
  });
  try {
    return { result: await write(createStore(db)), otherRefused };
  } finally {
    other.close();
  }
}

async function interleaveOnPostgres<T>(
  ctx: DbContext,
  other: Knex,
  id: number,
  write: (store: Store) => Promise<T>,
) {
  const trx = await other.transaction();
  await trx('positions').where({ id }).increment('version', 1);
  const pending = write(ctx.store).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  await waitForLockWait(ctx.db);
  await trx.commit();
  const outcome = await pending;
  if ('error' in outcome) throw outcome.error;
  return outcome.value;
}

async function waitForLockWait(db: Knex): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const result = (await db.raw(
      "select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like 'update %positions%'",
    )) as { rows: Array<{ n: number }> };
    if ((result.rows[0]?.n ?? 0) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the guarded UPDATE never waited on the row lock');
}

forEachDatabase('positions repository', (ctx) => {
  describe('insert and lookups', () => {
    it('stores the position, its options and transfers, and one "created" event', async () => {
      const { ente, service, position } = await insertPosition(ctx.store, undefined, 2);
      expect(position).to.include({ enteId: ente.id, serviceId: service.id, status: 'VALID', version: 1 });
      expect(position.debtor).to.include({
        type: 'F',
        fiscalCode: DEBTOR.fiscalCode,
        fullName: 'Mario Rossi',
      });
      expect(position.debtor).to.include({ city: 'Torino', email: null });
      expect(position.multe).to.equal(null);
      expect(position.options.map((o) => [o.installment, o.amountCents, o.status])).to.deep.equal([
        [0, 12_300, 'UNPAID'],
        [1, 5_001, 'UNPAID'],
        [2, 5_002, 'UNPAID'],
      ]);
      const transfers = position.options[0]?.transfers ?? [];
      expect(transfers.map((t) => [t.index, t.amountCents, t.postal])).to.deep.equal([
        [1, 12_200, false],
        [2, 100, true],
      ]);
      expect(transfers[0]).to.include({
        enteFiscalCode: ente.fiscalCode,
        iban: TEST_IBAN,
        category: '9/0101108TS/',
      });
      const events = await ctx.store.events.listFor('position', position.id);
      expect(events.map((e) => [e.action, e.fromStatus, e.toStatus, e.cause, e.actor])).to.deep.equal([
        ['created', null, 'VALID', 'test', 'mocha'],
      ]);
    });

    it('finds the same position by positionId, notice number (ente id or fiscal code), IUV and id', async () => {
      const { ente, position } = await insertPosition(ctx.store, undefined, 2);
      const option = position.options[1];
      expect(await ctx.store.positions.findByPositionId(ente.id, position.positionId)).to.deep.equal(
        position,
      );
      expect(await ctx.store.positions.findByNoticeNumber(ente.id, option?.noticeNumber ?? '')).to.deep.equal(
        position,
      );
      expect(
        await ctx.store.positions.findByNoticeNumber(ente.fiscalCode, option?.noticeNumber ?? ''),
      ).to.deep.equal(position);
      expect(await ctx.store.positions.findByIuv(ente.id, option?.iuv ?? '')).to.deep.equal(position);
      expect(await ctx.store.positions.findById(position.id)).to.deep.equal(position);
    });

    it("answers null for unknown keys and for another ente's notice", async () => {
      const { position } = await insertPosition(ctx.store);
      const other = await seedEnte(ctx.store);
      const noticeNumber = position.options[0]?.noticeNumber ?? '';
      expect(await ctx.store.positions.findByNoticeNumber(other.ente.fiscalCode, noticeNumber)).to.equal(
        null,
      );
      expect(await ctx.store.positions.findByNoticeNumber(other.ente.id, noticeNumber)).to.equal(null);
      expect(await ctx.store.positions.findByPositionId(other.ente.id, position.positionId)).to.equal(null);
      expect(await ctx.store.positions.findById(999_999)).to.equal(null);
    });

    it('stores a reserved multe notice with its fine details', async () => {
      const seeded = await seedEnte(ctx.store);
      const draft = samplePosition(seeded.ente.fiscalCode);
      const notices = await allocateNotices(ctx.store, seeded.ente.id, 1);
      const multe = {
        ticketNumber: 'V-123',
        plate: 'AB123CD',
        reducedAmountCents: 8_610,
        reducedUntil: '2030-01-05',
      };
      const position = await ctx.store.positions.insert(seeded.ente.id, seeded.service.id, draft, {
        notices,
        status: 'RESERVED',
        multe,
        ...CHANGE,
      });
      expect(position.status).to.equal('RESERVED');
      expect(position.multe).to.deep.equal(multe);
    });

    it('refuses a second position with the same positionId as POSITION_DUPLICATE, writing nothing', async () => {
      const { ente, service, position } = await insertPosition(ctx.store);
      const draft = samplePosition(ente.fiscalCode, 0, position.positionId);
      const notices = await allocateNotices(ctx.store, ente.id, 1);
      await expectRejection(
        ctx.store.positions.insert(ente.id, service.id, draft, { notices, ...CHANGE }),
        'POSITION_DUPLICATE',
      );
      expect(await count(ctx.db, 'payment_options', { ente_id: ente.id })).to.equal(1);
    });

    it('refuses a notice already used by another position as NOTICE_DUPLICATE, keeping no new row', async () => {
      const { ente, service, position } = await insertPosition(ctx.store);
      const draft = samplePosition(ente.fiscalCode);
      const reused = position.options.map((o) => ({ iuv: o.iuv, noticeNumber: o.noticeNumber }));
      const eventsBefore = await count(ctx.db, 'events', { entity_type: 'position' });
      await expectRejection(
        ctx.store.positions.insert(ente.id, service.id, draft, { notices: reused, ...CHANGE }),
        'NOTICE_DUPLICATE',
      );
      expect(await ctx.store.positions.findByPositionId(ente.id, draft.positionId)).to.equal(null);
      expect(await count(ctx.db, 'events', { entity_type: 'position' })).to.equal(eventsBefore);
      expect(await count(ctx.db, 'positions', { ente_id: ente.id })).to.equal(1);
    });

    it('refuses a position whose notices do not match its options with INVALID_POSITION', async () => {
      const seeded = await seedEnte(ctx.store);
      const draft = samplePosition(seeded.ente.fiscalCode, 2);
      const notices = await allocateNotices(ctx.store, seeded.ente.id, 1);
      await expectRejection(
        ctx.store.positions.insert(seeded.ente.id, seeded.service.id, draft, { notices, ...CHANGE }),
        'INVALID_POSITION',
      );
      expect(await count(ctx.db, 'positions', { ente_id: seeded.ente.id })).to.equal(0);
    });

    it("lists an ente's positions, filtered by status", async () => {
      const first = await insertPosition(ctx.store);
      const second = await insertPosition(ctx.store, first);
      await ctx.store.positions.cancel(second.position.id, CHANGE);
      const all = await ctx.store.positions.list(first.ente.id);
      const cancelled = await ctx.store.positions.list(first.ente.id, { status: 'CANCELLED' });
      expect(all.map((p) => p.id)).to.deep.equal([first.position.id, second.position.id]);
      expect(cancelled.map((p) => p.id)).to.deep.equal([second.position.id]);
    });
  });

  describe('transitions', () => {
    it('writes exactly one event per legal change and bumps version and updated_at', async () => {
      const time = steppingClock();
      const store = ctx.storeWith({ clock: time.clock });
      const { position } = await insertPosition(store);
      time.advance();
      const expired = await store.positions.transition(position.id, 'EXPIRED', {
        cause: 'due date',
        actor: 'job',
      });
      time.advance();
      await store.positions.transition(position.id, 'PAID', {
        cause: 'receipt',
        actor: 'node',
        expectedVersion: 2,
      });
      expect(expired).to.include({ status: 'EXPIRED', version: 2, updatedAt: '2030-01-01T10:00:01.000Z' });
      expect(await headerRow(ctx.db, position.id)).to.deep.equal({
        status: 'PAID',
        version: 3,
        updatedAt: '2030-01-01T10:00:02.000Z',
      });
      const events = await store.events.listFor('position', position.id);
      expect(events.map((e) => [e.action, e.fromStatus, e.toStatus, e.cause, e.actor])).to.deep.equal([
        ['created', null, 'VALID', 'test', 'mocha'],
        ['status_changed', 'VALID', 'EXPIRED', 'due date', 'job'],
        ['status_changed', 'EXPIRED', 'PAID', 'receipt', 'node'],
      ]);
    });

    it('refuses an illegal change with INVALID_STATE_TRANSITION, leaving the row and the log alone', async () => {
      const time = steppingClock();
      const store = ctx.storeWith({ clock: time.clock });
      const { position } = await insertPosition(store);
      await store.positions.cancel(position.id, CHANGE);
      const before = await headerRow(ctx.db, position.id);
      time.advance();
      await expectRejection(
        store.positions.transition(position.id, 'PAID', CHANGE),
        'INVALID_STATE_TRANSITION',
      );
      await expectRejection(
        store.positions.transition(position.id, 'VALID', CHANGE),
        'INVALID_STATE_TRANSITION',
      );
      expect(await headerRow(ctx.db, position.id)).to.deep.equal(before);
      expect(await store.events.listFor('position', position.id)).to.have.length(2);
    });

    it('answers POSITION_UNKNOWN for a position that does not exist', async () => {
      await expectRejection(ctx.store.positions.transition(999_999, 'PAID', CHANGE), 'POSITION_UNKNOWN');
    });

    it('rolls the status change back when its event cannot be written', async () => {
      const { position } = await insertPosition(ctx.store);
      await ctx.db.schema.renameTable('events', 'events_unavailable');
      try {
        const error = await ctx.store.positions.transition(position.id, 'CANCELLED', CHANGE).then(
          () => null,
          (err: unknown) => err,
        );
        expect(error, 'the event insert should have failed').to.be.instanceOf(Error);
      } finally {
        await ctx.db.schema.renameTable('events_unavailable', 'events');
      }
      expect(await headerRow(ctx.db, position.id)).to.include({ status: 'VALID', version: 1 });
    });

    it("rolls the change and its event back with the caller's transaction", async () => {
      const { position } = await insertPosition(ctx.store);
      const failure = new Error('later step failed');
      const outcome = await ctx.store
        .transaction(async (trx) => {
          await trx.positions.transition(position.id, 'CANCELLED', CHANGE);
          expect((await trx.positions.findById(position.id))?.status).to.equal('CANCELLED');
          throw failure;
        })
        .catch((err: unknown) => err);
      expect(outcome).to.equal(failure);
      expect(await headerRow(ctx.db, position.id)).to.include({ status: 'VALID', version: 1 });
      expect(await ctx.store.events.listFor('position', position.id)).to.have.length(1);
    });

    it('refuses a stale expectedVersion with CONCURRENT_UPDATE', async () => {
      const { position } = await insertPosition(ctx.store);
      await ctx.store.positions.transition(position.id, 'EXPIRED', CHANGE);
      await expectRejection(
        ctx.store.positions.transition(position.id, 'CANCELLED', { ...CHANGE, expectedVersion: 1 }),
        'CONCURRENT_UPDATE',
      );
      expect(await headerRow(ctx.db, position.id)).to.include({ status: 'EXPIRED', version: 2 });
    });

    it('refuses with CONCURRENT_UPDATE when another writer commits between the read and the update', async function () {
      const { position } = await insertPosition(ctx.store);
      if (ctx.dialect === 'sqlite') {
        // SQLite serialises writers: the other write cannot land in between, so the change is kept.
        const file = ctx.connection.url.slice('sqlite:'.length);
        const { otherRefused } = await interleaveOnSqlite(file, ctx.connect(), position.id, (store) =>
          store.positions.transition(position.id, 'CANCELLED', CHANGE),
        );
        expect(otherRefused).to.equal(true);
        expect(await headerRow(ctx.db, position.id)).to.include({ status: 'CANCELLED' });
        return;
      }
      await expectRejection(
        withInterleavedWrite(ctx, position.id, (store) =>
          store.positions.transition(position.id, 'CANCELLED', CHANGE),
        ),
        'CONCURRENT_UPDATE',
      );
      expect(await headerRow(ctx.db, position.id)).to.include({ status: 'VALID', version: 2 });
      expect(await ctx.store.events.listFor('position', position.id)).to.have.length(1);
    });
  });

  describe('option statuses', () => {
    it('marks an option paid with its own event and moves the position version', async () => {
      const { position } = await insertPosition(ctx.store, undefined, 2);
      const option = position.options[1];
      const after = await ctx.store.positions.setOptionStatus(option?.id ?? 0, 'PAID', CHANGE);
      expect(after.options.map((o) => o.status)).to.deep.equal(['UNPAID', 'PAID', 'UNPAID']);
      expect(after.version).to.equal(2);
      const events = await ctx.store.events.listFor('payment_option', option?.id ?? 0);
      expect(events.map((e) => [e.action, e.fromStatus, e.toStatus])).to.deep.equal([
        ['status_changed', 'UNPAID', 'PAID'],
      ]);
    });

    it('refuses an illegal option change with INVALID_STATE_TRANSITION and no event', async () => {
      const { position } = await insertPosition(ctx.store);
      const optionId = position.options[0]?.id ?? 0;
      await expectRejection(
        ctx.store.positions.setOptionStatus(optionId, 'REPORTED', CHANGE),
        'INVALID_STATE_TRANSITION',
      );
      expect((await ctx.store.positions.findById(position.id))?.options[0]?.status).to.equal('UNPAID');
      expect(await ctx.store.events.listFor('payment_option', optionId)).to.deep.equal([]);
      await expectRejection(ctx.store.positions.setOptionStatus(999_999, 'PAID', CHANGE), 'POSITION_UNKNOWN');
    });
  });

  describe('update', () => {
    it('replaces amounts and options, keeping notices per installment, with one "updated" event', async () => {
      const { ente, position } = await insertPosition(ctx.store, undefined, 2);
      const [single, first] = position.options;
      const changed = samplePosition(ente.fiscalCode, 3, position.positionId);
      const [extra] = await allocateNotices(ctx.store, ente.id, 1);
      const updated = await ctx.store.positions.update(position.id, changed, {
        ...CHANGE,
        expectedVersion: 1,
        newNotices: { 3: extra ?? { iuv: '', noticeNumber: null } },
      });
      expect(updated.version).to.equal(2);
      expect(updated.options.map((o) => o.installment)).to.deep.equal([0, 1, 2, 3]);
      expect(updated.options[0]).to.include({ id: single?.id, noticeNumber: single?.noticeNumber });
      expect(updated.options[1]).to.include({ id: first?.id, noticeNumber: first?.noticeNumber });
      expect(updated.options[3]?.noticeNumber).to.equal(extra?.noticeNumber);
      expect(updated.options[3]?.transfers).to.have.length(2);
      const actions = (await ctx.store.events.listFor('position', position.id)).map((e) => e.action);
      expect(actions).to.deep.equal(['created', 'updated']);
    });

    it('drops installments the new version no longer has', async () => {
      const { ente, position } = await insertPosition(ctx.store, undefined, 3);
      const updated = await ctx.store.positions.update(
        position.id,
        samplePosition(ente.fiscalCode, 2, position.positionId),
        CHANGE,
      );
      expect(updated.options.map((o) => o.installment)).to.deep.equal([0, 1, 2]);
      expect(await count(ctx.db, 'payment_options', { position_id: position.id })).to.equal(3);
    });

    it('updates the debtor and multe details of a reserved notice being activated', async () => {
      const seeded = await seedEnte(ctx.store);
      const draft = { ...samplePosition(seeded.ente.fiscalCode), debtor: null };
      const notices = await allocateNotices(ctx.store, seeded.ente.id, 1);
      const reserved = await ctx.store.positions.insert(seeded.ente.id, seeded.service.id, draft, {
        notices,
        status: 'RESERVED',
        ...CHANGE,
      });
      expect(reserved.debtor).to.equal(null);
      const activated = await ctx.store.positions.update(
        reserved.id,
        samplePosition(seeded.ente.fiscalCode, 0, reserved.positionId),
        { ...CHANGE, multe: { plate: 'AB123CD' } },
      );
      expect(activated.debtor?.fullName).to.equal('Mario Rossi');
      expect(activated.multe).to.deep.equal({
        ticketNumber: null,
        plate: 'AB123CD',
        reducedAmountCents: null,
        reducedUntil: null,
      });
      expect(activated.options[0]?.noticeNumber).to.equal(notices[0]?.noticeNumber);
    });

    it('refuses to change a cancelled position or one with a paid option (INVALID_STATE_TRANSITION)', async () => {
      const cancelled = await insertPosition(ctx.store);
      await ctx.store.positions.cancel(cancelled.position.id, CHANGE);
      const draft = samplePosition(cancelled.ente.fiscalCode, 0, cancelled.position.positionId);
      await expectRejection(
        ctx.store.positions.update(cancelled.position.id, draft, CHANGE),
        'INVALID_STATE_TRANSITION',
      );
      const paid = await insertPosition(ctx.store, undefined, 2);
      await ctx.store.positions.setOptionStatus(paid.position.options[1]?.id ?? 0, 'PAID', CHANGE);
      const edit = samplePosition(paid.ente.fiscalCode, 2, paid.position.positionId);
      await expectRejection(
        ctx.store.positions.update(paid.position.id, edit, CHANGE),
        'INVALID_STATE_TRANSITION',
      );
      expect((await ctx.store.positions.findById(paid.position.id))?.version).to.equal(2);
    });

    it('refuses a new installment without a notice (INVALID_POSITION) or with a taken one (NOTICE_DUPLICATE)', async () => {
      const { ente, position } = await insertPosition(ctx.store);
      const withPlan = samplePosition(ente.fiscalCode, 2, position.positionId);
      await expectRejection(ctx.store.positions.update(position.id, withPlan, CHANGE), 'INVALID_POSITION');
      const [fresh] = await allocateNotices(ctx.store, ente.id, 1);
      const single = position.options[0];
      const taken = { iuv: single?.iuv ?? '', noticeNumber: single?.noticeNumber ?? null };
      const newNotices = { 1: fresh ?? taken, 2: taken };
      await expectRejection(
        ctx.store.positions.update(position.id, withPlan, { ...CHANGE, newNotices }),
        'NOTICE_DUPLICATE',
      );
      expect(await ctx.store.positions.findById(position.id)).to.deep.equal(position);
    });

    it('refuses a stale expectedVersion with CONCURRENT_UPDATE', async () => {
      const { ente, position } = await insertPosition(ctx.store);
      const draft = samplePosition(ente.fiscalCode, 0, position.positionId);
      await ctx.store.positions.update(position.id, draft, CHANGE);
      await expectRejection(
        ctx.store.positions.update(position.id, draft, { ...CHANGE, expectedVersion: 1 }),
        'CONCURRENT_UPDATE',
      );
      expect((await ctx.store.positions.findById(position.id))?.version).to.equal(2);
    });
  });
});
