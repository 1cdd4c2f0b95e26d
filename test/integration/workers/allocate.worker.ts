// Worker thread for the IUV concurrency spec: opens its own connection to the suite's database and
// allocates sequence values in a loop, truly in parallel with its siblings.

import { parentPort, workerData } from 'node:worker_threads';
import { createDb } from '../../../src/db/knex.ts';
import { createStore } from '../../../src/db/store.ts';

export interface AllocateWorkerData {
  url: string;
  searchPath?: string;
  enteId: number;
  sizes: number[];
}

const data = workerData as AllocateWorkerData;
const db = createDb(data.url, data.searchPath ? { searchPath: data.searchPath } : {});
try {
  const store = createStore(db);
  const values: number[] = [];
  for (const size of data.sizes) values.push(...(await store.iuv.allocate(data.enteId, size)));
  parentPort?.postMessage({ values });
} finally {
  await db.destroy();
}
