// IUV repository: atomic sequence allocation (also from concurrent connections and threads), the
// register of issued IUVs / notice numbers, chunked inserts and duplicate detection.

import { Worker } from 'node:worker_threads';
import { randomInt } from 'node:crypto';
import { expect } from 'chai';
import { buildAux3FromSequence } from '../../src/domain/noticeNumber.ts';
import { createStore } from '../../src/db/store.ts';
import type { NewAllocation } from '../../src/db/repositories/iuv.ts';
import { forEachDatabase, seedEnte } from '../support/db.ts';
import type { AllocateWorkerData } from './workers/allocate.worker.ts';
import { expectRejection } from './helpers.ts';

const WORKERS = 4;
const ALLOCATIONS_PER_WORKER = 50;

function randomSizes(): number[] {
  return Array.from({ length: ALLOCATIONS_PER_WORKER }, () => randomInt(1, 21));
}

function asAllocations(enteId: number, values: readonly number[]): NewAllocation[] {
  return values.map((n) => ({ enteId, ...buildAux3FromSequence('01', n), purpose: 'request' }));
}

// Worker threads do not inherit the tsx loader of the test run: a tiny JS bootstrap loads the TS worker.
const WORKER_URL = new URL('./workers/allocate.worker.ts', import.meta.url).href;
const WORKER_BOOTSTRAP = `import('tsx/esm/api').then((tsx) => tsx.tsImport(${JSON.stringify(WORKER_URL)}, ${JSON.stringify(import.meta.url)}));`;

function runWorker(data: AllocateWorkerData): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: data });
    worker.once('message', (message: { values: number[] }) => resolve(message.values));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`allocation worker exited with ${code}`));
    });
  });
}

function expectAllDistinct(values: readonly number[]): void {
  expect(new Set(values).size, 'distinct sequence values').to.equal(values.length);
}

forEachDatabase('iuv repository', (ctx) => {
  it('allocates consecutive values from 1, continuing across calls', async () => {
    const { ente } = await seedEnte(ctx.store);
    expect(await ctx.store.iuv.allocate(ente.id, 3)).to.deep.equal([1, 2, 3]);
    expect(await ctx.store.iuv.allocate(ente.id, 1)).to.deep.equal([4]);
    expect(await ctx.store.iuv.allocate(ente.id, 2)).to.deep.equal([5, 6]);
  });

  it('keeps one sequence per ente and per scope', async () => {
    const a = await seedEnte(ctx.store);
    const b = await seedEnte(ctx.store);
    await ctx.store.iuv.allocate(a.ente.id, 10);
    expect(await ctx.store.iuv.allocate(b.ente.id, 2)).to.deep.equal([1, 2]);
    expect(await ctx.store.iuv.allocate(a.ente.id, 2, 'multe')).to.deep.equal([1, 2]);
    expect(await ctx.store.iuv.allocate(a.ente.id, 1)).to.deep.equal([11]);
  });

  it('refuses a count below one', async () => {
    const { ente } = await seedEnte(ctx.store);
    const error = await ctx.store.iuv.allocate(ente.id, 0).then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).to.be.instanceOf(RangeError);
  });

  it('hands out distinct values to 4 connections allocating concurrently', async () => {
    const { ente } = await seedEnte(ctx.store);
    const stores = Array.from({ length: WORKERS }, () => createStore(ctx.connect()));
    const perWorker = await Promise.all(
      stores.map(async (store) => {
        const values: number[] = [];
        for (const size of randomSizes()) values.push(...(await store.iuv.allocate(ente.id, size)));
        return values;
      }),
    );
    const all = perWorker.flat();
    expectAllDistinct(all);
    // Every call succeeded, so the values are exactly 1..n: nothing was handed out twice or skipped.
    expect([...all].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: all.length }, (_, k) => k + 1));
    await ctx.store.iuv.record(asAllocations(ente.id, all));
    const [row] = await ctx.db('iuv_allocations').where({ ente_id: ente.id }).countDistinct({ n: 'iuv' });
    expect(Number(row?.n)).to.equal(all.length);
  });

  it('hands out distinct values to 4 threads allocating in parallel', async function () {
    this.timeout(60_000);
    const { ente } = await seedEnte(ctx.store);
    const perWorker = await Promise.all(
      Array.from({ length: WORKERS }, () =>
        runWorker({ ...ctx.connection, enteId: ente.id, sizes: randomSizes() }),
      ),
    );
    const all = perWorker.flat();
    expect(perWorker.every((values) => values.length >= ALLOCATIONS_PER_WORKER)).to.equal(true);
    expectAllDistinct(all);
    await ctx.store.iuv.record(asAllocations(ente.id, all));
    const [row] = await ctx
      .db('iuv_allocations')
      .where({ ente_id: ente.id })
      .countDistinct({ n: 'notice_number' });
    expect(Number(row?.n)).to.equal(all.length);
  });

  it('records more than 500 allocations in one call', async () => {
    const { ente } = await seedEnte(ctx.store);
    const values = await ctx.store.iuv.allocate(ente.id, 1_234);
    await ctx.store.iuv.record(asAllocations(ente.id, values));
    const [row] = await ctx.db('iuv_allocations').where({ ente_id: ente.id }).count({ n: '*' });
    expect(Number(row?.n)).to.equal(1_234);
  });

  it('refuses an IUV issued twice with NOTICE_DUPLICATE and keeps none of that batch', async () => {
    const { ente } = await seedEnte(ctx.store);
    const values = await ctx.store.iuv.allocate(ente.id, 2);
    await ctx.store.iuv.record(asAllocations(ente.id, [values[0] as number]));
    const batch = asAllocations(ente.id, [
      ...Array.from({ length: 600 }, (_, k) => 1_000 + k),
      values[0] as number,
    ]);
    await expectRejection(ctx.store.iuv.record(batch), 'NOTICE_DUPLICATE');
    const [row] = await ctx.db('iuv_allocations').where({ ente_id: ente.id }).count({ n: '*' });
    expect(Number(row?.n)).to.equal(1);
  });

  it('allows the same IUV for two different enti', async () => {
    const a = await seedEnte(ctx.store);
    const b = await seedEnte(ctx.store);
    await ctx.store.iuv.record(asAllocations(a.ente.id, [7]));
    await ctx.store.iuv.record(asAllocations(b.ente.id, [7]));
    expect((await ctx.store.iuv.findByIuv(b.ente.id, buildAux3FromSequence('01', 7).iuv))?.enteId).to.equal(
      b.ente.id,
    );
  });

  it('issues notices (allocate, format, record) and finds them by notice number and IUV', async () => {
    const { ente, service } = await seedEnte(ctx.store);
    const issued = await ctx.store.iuv.issue(ente.id, 3, {
      format: (n) => buildAux3FromSequence('01', n),
      purpose: 'reserve',
      serviceId: service.id,
    });
    expect(issued.map((a) => a.noticeNumber)).to.deep.equal(
      [1, 2, 3].map((n) => buildAux3FromSequence('01', n).noticeNumber),
    );
    const second = issued[1] as NewAllocation;
    const found = await ctx.store.iuv.findByNoticeNumber(ente.id, second.noticeNumber as string);
    expect(found).to.include({ enteId: ente.id, iuv: second.iuv, purpose: 'reserve', serviceId: service.id });
    expect(found).to.include({ clientId: null, optionId: null });
    expect(await ctx.store.iuv.findByIuv(ente.id, second.iuv)).to.deep.equal(found);
    expect(await ctx.store.iuv.findByNoticeNumber(ente.id, '399999999999999999')).to.equal(null);
  });

  it('attaches an issued IUV to nothing when it was never issued', async () => {
    const { ente } = await seedEnte(ctx.store);
    expect(await ctx.store.iuv.attach(ente.id, '01999999999999999', 1)).to.equal(false);
  });
});
