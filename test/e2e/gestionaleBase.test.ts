// The Base model end to end (DESIGN §2-3): a node-soap client built from the served WSDL, with a
// WS-Security UsernameToken, calls requestIUV, requestIUVBatch, uploadDebtPositions,
// getUploadOutcome and getDebtPosition on a real server over a real database; every answer is
// validated against xsd/gestionale, and the database is checked for what was (not) written.

import { expect } from 'chai';
import * as soap from 'soap';
import type { Knex } from 'knex';
import { forEachDatabase } from '../support/db.ts';
import { businessSnapshot, type TestServer } from '../support/soapServer.ts';
import { seedDemo } from '../../src/app/seedDemo.ts';
import { verifyPaymentNotice } from '../../src/app/pagopa/payments.ts';
import { isDomainError } from '../../src/domain/errors.ts';
import type { UploadWorker } from '../../src/app/gestionale/uploadWorker.ts';
import { NOTIFY_UPLOAD_OUTCOME } from '../../src/app/gestionale/uploads.ts';
import {
  addTestClient,
  DEMO,
  EC,
  EC2,
  expectKo,
  expectOk,
  gestionaleClient,
  IBAN_2,
  insertItem,
  list,
  NODE_CALLER,
  noticeNumbersIn,
  positionArgs,
  rawCall,
  startGestionaleServer,
  uid,
  uploadArgs,
  type Answer,
  type GestionaleClient,
} from './gestionaleClient.ts';

interface NoticeAnswer {
  installment: number | string;
  iuv: string;
  noticeNumber: string;
  amountCents: number | string;
  dueDate: string;
}

interface ItemAnswer {
  sequence: number | string;
  positionId: string;
  action: string;
  outcome: string;
  notice?: NoticeAnswer | NoticeAnswer[];
  fault?: { faultCode: string; field?: string };
}

function items(answer: Answer): ItemAnswer[] {
  return list(answer.itemOutcome as ItemAnswer | ItemAnswer[] | undefined);
}

function notices(item: ItemAnswer | undefined): NoticeAnswer[] {
  return list(item?.notice);
}

async function count(db: Knex, table: string, where: Record<string, unknown> = {}) {
  const [row] = await db(table).where(where).count<{ n: number | string }[]>({ n: '*' });
  return Number(row?.n ?? 0);
}

forEachDatabase('gestionale API, Base model (SOAP end to end)', (ctx) => {
  let server: TestServer;
  let worker: UploadWorker;
  let demo: GestionaleClient;
  let tariOnly: GestionaleClient;
  let noBase: GestionaleClient;

  before(async () => {
    await seedDemo(ctx.store);
    ({ server, worker } = await startGestionaleServer(ctx.db, ctx.store));
    demo = await gestionaleClient(server, DEMO);
    tariOnly = await gestionaleClient(
      server,
      await addTestClient(ctx.store, {
        username: 'base-tari-only',
        password: 'base-tari-only-password',
        name: 'bound to TARI of the first ente',
        enti: [EC],
        services: ['TARI'],
        models: ['base', 'multe'],
      }),
    );
    noBase = await gestionaleClient(
      server,
      await addTestClient(ctx.store, {
        username: 'base-multe-only',
        password: 'base-multe-only-password',
        name: 'bound to the multe model only',
        enti: [EC],
        services: [],
        models: ['multe'],
      }),
    );
  });
  after(async () => {
    await worker?.idle();
    await server?.close();
  });

  async function ente() {
    return (await ctx.store.enti.getByFiscalCode(EC))!;
  }

  describe('requestIUV', () => {
    it('hands out an IUV and its notice number, recorded for the service and the client', async () => {
      const answer = await demo.call('requestIUV', { enteFiscalCode: EC, serviceCode: 'TARI' });
      expectOk(answer);
      expect(answer.noticeNumber).to.equal(`3${answer.iuv as string}`);
      const allocation = await ctx.store.iuv.findByIuv((await ente()).id, answer.iuv as string);
      const client = await ctx.store.clients.findByUsername(DEMO.username);
      const tari = await ctx.store.services.get((await ente()).id, 'TARI');
      expect(allocation).to.include({ purpose: 'request', clientId: client!.id, serviceId: tari!.id });
      expect(allocation!.optionId).to.equal(null);
    });

    it('answers a retry with the same requestId with the same numbers, issuing nothing new', async () => {
      const body = `<enteFiscalCode>${EC}</enteFiscalCode><serviceCode>TARI</serviceCode><requestId>${uid('req')}</requestId>`;
      const first = await rawCall(server, 'requestIUV', body);
      expect(first.outcome).to.equal('OK');
      const allocations = await count(ctx.db, 'iuv_allocations');
      const again = await rawCall(server, 'requestIUV', body);
      expect(again.body).to.equal(first.body);
      expect(noticeNumbersIn(again.body)).to.have.length(1);
      expect(await count(ctx.db, 'iuv_allocations')).to.equal(allocations);
    });

    it('takes a requestId from a node-soap client built from the served WSDL (unqualified, as the schema says)', async () => {
      const client = await gestionaleClient(server);
      const requestId = uid('req');
      const first = await client.call('requestIUV', { enteFiscalCode: EC, serviceCode: 'TARI', requestId });
      const again = await client.call('requestIUV', { enteFiscalCode: EC, serviceCode: 'TARI', requestId });
      expectOk(first);
      expect(again.noticeNumber).to.equal(first.noticeNumber);
    });

    it('answers KO PPAY_MESSAGE_DUPLICATE when a requestId comes back with other content', async () => {
      const requestId = `<requestId>${uid('req')}</requestId>`;
      const first = await rawCall(
        server,
        'requestIUV',
        `<enteFiscalCode>${EC}</enteFiscalCode><serviceCode>TARI</serviceCode>${requestId}`,
      );
      expect(first.outcome).to.equal('OK');
      const before = await businessSnapshot(ctx.db);
      const other = await rawCall(
        server,
        'requestIUV',
        `<enteFiscalCode>${EC}</enteFiscalCode><serviceCode>MENSA</serviceCode>${requestId}`,
      );
      expect(other).to.include({ outcome: 'KO', faultCode: 'PPAY_MESSAGE_DUPLICATE' });
      const batch = await rawCall(
        server,
        'requestIUVBatch',
        `<enteFiscalCode>${EC}</enteFiscalCode><serviceCode>TARI</serviceCode><count>1</count>${requestId}`,
      );
      expect(batch).to.include({ outcome: 'KO', faultCode: 'PPAY_MESSAGE_DUPLICATE' });
      expect(await businessSnapshot(ctx.db)).to.deep.equal(before);
    });

    it('answers KO PPAY_SERVICE_UNKNOWN and PPAY_UNAUTHORIZED (model, service) with nothing issued', async () => {
      const before = await businessSnapshot(ctx.db);
      expectKo(
        await demo.call('requestIUV', { enteFiscalCode: EC, serviceCode: 'NOPE' }),
        'PPAY_SERVICE_UNKNOWN',
      );
      expectKo(
        await noBase.call('requestIUV', { enteFiscalCode: EC, serviceCode: 'TARI' }),
        'PPAY_UNAUTHORIZED',
      );
      expectKo(
        await tariOnly.call('requestIUV', { enteFiscalCode: EC, serviceCode: 'MENSA' }),
        'PPAY_UNAUTHORIZED',
      );
      expectKo(
        await tariOnly.call('requestIUV', { enteFiscalCode: EC2, serviceCode: 'CANONE' }),
        'PPAY_UNAUTHORIZED',
      );
      expect(await businessSnapshot(ctx.db)).to.deep.equal(before);
    });

    it('leaves an IUV with no position unknown to the node (PAA_PAGAMENTO_SCONOSCIUTO)', async () => {
      const answer = await demo.call('requestIUV', { enteFiscalCode: EC, serviceCode: 'TARI' });
      const error = await verifyPaymentNotice(ctx.store, {
        caller: NODE_CALLER,
        fiscalCode: EC,
        noticeNumber: answer.noticeNumber as string,
      }).catch((err: unknown) => err);
      expect(isDomainError(error, 'POSITION_UNKNOWN')).to.equal(true);
    });
  });

  describe('requestIUVBatch', () => {
    it('hands out exactly count distinct notices in allocation order', async () => {
      const answer = await demo.call('requestIUVBatch', {
        enteFiscalCode: EC,
        serviceCode: 'TARI',
        count: 25,
      });
      expectOk(answer);
      const batch = list(answer.notice as NoticeAnswer[]);
      expect(batch).to.have.length(25);
      expect(new Set(batch.map((n) => n.noticeNumber)).size).to.equal(25);
      const iuvs = batch.map((n) => n.iuv);
      expect(iuvs).to.deep.equal([...iuvs].sort());
    });

    it('answers a retried requestId with the same batch', async () => {
      const body = `<enteFiscalCode>${EC}</enteFiscalCode><serviceCode>TARI</serviceCode><count>4</count><requestId>${uid('batch')}</requestId>`;
      const first = await rawCall(server, 'requestIUVBatch', body);
      const again = await rawCall(server, 'requestIUVBatch', body);
      expect(noticeNumbersIn(first.body)).to.have.length(4);
      expect(again.body).to.equal(first.body);
    });

    it('never hands out one notice twice to four concurrent callers', async () => {
      const clients = await Promise.all([1, 2, 3, 4].map(() => gestionaleClient(server, DEMO)));
      const answers = await Promise.all(
        clients.map((c) =>
          c.call('requestIUVBatch', { enteFiscalCode: EC, serviceCode: 'TARI', count: 200 }),
        ),
      );
      const all = answers.flatMap((a) => list(a.notice as NoticeAnswer[]).map((n) => n.noticeNumber));
      expect(all).to.have.length(800);
      expect(new Set(all).size).to.equal(800);
    });
  });

  describe('uploadDebtPositions (synchronous)', () => {
    it('inserts an installment plan with five beneficiaries and metadata, answering every notice', async () => {
      const positionId = uid('TARI');
      const five = [
        { amountCents: 6000 },
        { enteFiscalCode: EC2, amountCents: 1000, iban: IBAN_2 },
        { enteFiscalCode: EC2, amountCents: 1000, iban: 'IT48F0760101000000012345678' },
        { amountCents: 1000, iban: 'IT60X0542811101000000123456' },
        { amountCents: 1000, iban: 'IT66X0760103200000012345678' },
      ];
      const position = positionArgs(
        positionId,
        [
          { installment: 0, amountCents: 10000, transfers: five },
          { installment: 1, amountCents: 5000 },
          { installment: 2, amountCents: 5000 },
        ],
        { metadata: [{ key: 'rif.Utenza', value: 'UND-0042' }] },
      );
      const answer = await demo.call('uploadDebtPositions', uploadArgs(uid('msg'), [insertItem(position)]));
      expectOk(answer);
      expect(answer.status).to.equal('PROCESSED');
      const [item] = items(answer);
      expect(item).to.include({ positionId, action: 'INSERT', outcome: 'OK' });
      expect(notices(item).map((n) => Number(n.installment))).to.deep.equal([0, 1, 2]);
      const read = await demo.call('getDebtPosition', { enteFiscalCode: EC, positionId });
      expectOk(read);
      const view = read.position as Record<string, unknown>;
      expect(view.status).to.equal('VALID');
      expect(list((view.metadata as { entry: unknown }).entry)).to.deep.equal([
        { key: 'rif.Utenza', value: 'UND-0042' },
      ]);
      const [single] = list(view.option as Array<Record<string, unknown>>);
      expect(list(single!.transfer as unknown[])).to.have.length(5);
      const byNotice = await demo.call('getDebtPosition', {
        enteFiscalCode: EC,
        noticeNumber: notices(item)[2]!.noticeNumber,
      });
      expect((byNotice.position as Record<string, unknown>).positionId).to.equal(positionId);
    });

    it('uses an IUV obtained with requestIUV, and refuses one not issued or already used', async () => {
      const issued = await demo.call('requestIUV', { enteFiscalCode: EC, serviceCode: 'TARI' });
      const iuv = issued.iuv as string;
      const first = uid('TARI');
      const answer = await demo.call(
        'uploadDebtPositions',
        uploadArgs(uid('msg'), [
          insertItem(positionArgs(first, [{ installment: 0, amountCents: 4200, iuv }])),
          insertItem(positionArgs(uid('TARI'), [{ installment: 0, amountCents: 4200, iuv }])),
          insertItem(
            positionArgs(uid('TARI'), [{ installment: 0, amountCents: 4200, iuv: '01999999999999945' }]),
          ),
        ]),
      );
      const [ok, reused, unknown] = items(answer);
      expect(ok!.outcome).to.equal('OK');
      expect(notices(ok)[0]).to.include({ iuv, noticeNumber: issued.noticeNumber });
      expect(reused!.fault).to.include({
        faultCode: 'PPAY_NOTICE_DUPLICATE',
        field: 'position.option[0].iuv',
      });
      expect(unknown!.fault).to.include({
        faultCode: 'PPAY_NOTICE_UNKNOWN',
        field: 'position.option[0].iuv',
      });
      const allocation = await ctx.store.iuv.findByIuv((await ente()).id, iuv);
      const stored = await ctx.store.positions.findByPositionId((await ente()).id, first);
      expect(allocation!.optionId).to.equal(stored!.options[0]!.id);
    });

    it('refuses an IUV issued for another service of the ente (PPAY_NOTICE_UNKNOWN)', async () => {
      const issued = await demo.call('requestIUV', { enteFiscalCode: EC, serviceCode: 'MENSA' });
      const answer = await demo.call(
        'uploadDebtPositions',
        uploadArgs(uid('msg'), [
          insertItem(
            positionArgs(uid('TARI'), [{ installment: 0, amountCents: 4200, iuv: issued.iuv as string }]),
          ),
        ]),
      );
      expect(items(answer)[0]!.fault!.faultCode).to.equal('PPAY_NOTICE_UNKNOWN');
    });

    it('answers the same messageId with the same content with the first outcome, storing nothing twice', async () => {
      const args = uploadArgs(uid('msg'), [
        insertItem(positionArgs(uid('TARI'), [{ installment: 0, amountCents: 1500 }])),
        insertItem(positionArgs(uid('TARI'), [{ installment: 0, amountCents: 1600 }])),
      ]);
      const first = await demo.call('uploadDebtPositions', args);
      const before = await businessSnapshot(ctx.db);
      const uploads = await count(ctx.db, 'uploads');
      const again = await demo.call('uploadDebtPositions', args);
      expect(again).to.deep.equal(first);
      expect(await businessSnapshot(ctx.db)).to.deep.equal(before);
      expect(await count(ctx.db, 'uploads')).to.equal(uploads);
    });

    it('answers KO PPAY_MESSAGE_DUPLICATE for a messageId reused with other content, storing nothing', async () => {
      const messageId = uid('msg');
      const positionId = uid('TARI');
      expectOk(
        await demo.call(
          'uploadDebtPositions',
          uploadArgs(messageId, [
            insertItem(positionArgs(positionId, [{ installment: 0, amountCents: 1500 }])),
          ]),
        ),
      );
      const before = await businessSnapshot(ctx.db);
      const other = await demo.call(
        'uploadDebtPositions',
        uploadArgs(messageId, [
          insertItem(positionArgs(uid('TARI'), [{ installment: 0, amountCents: 1500 }])),
        ]),
      );
      expectKo(other, 'PPAY_MESSAGE_DUPLICATE');
      expect(await businessSnapshot(ctx.db)).to.deep.equal(before);
    });

    it('is idempotent per positionId: an identical INSERT is OK with its numbers, a different one PPAY_POSITION_DUPLICATE', async () => {
      const position = positionArgs(uid('TARI'), [{ installment: 0, amountCents: 2500 }]);
      const first = await demo.call('uploadDebtPositions', uploadArgs(uid('msg'), [insertItem(position)]));
      const same = await demo.call('uploadDebtPositions', uploadArgs(uid('msg'), [insertItem(position)]));
      expect(items(same)[0]).to.deep.include({ outcome: 'OK' });
      expect(notices(items(same)[0])).to.deep.equal(notices(items(first)[0]));
      const changed = { ...position, description: 'another description' };
      const other = await demo.call('uploadDebtPositions', uploadArgs(uid('msg'), [insertItem(changed)]));
      expect(items(other)[0]!.fault!.faultCode).to.equal('PPAY_POSITION_DUPLICATE');
    });

    it('keeps the good items and nothing of the bad ones when items fail alone', async () => {
      const good = uid('TARI');
      const bad = uid('TARI');
      const badIban = uid('TARI');
      const before = await businessSnapshot(ctx.db);
      const answer = await demo.call(
        'uploadDebtPositions',
        uploadArgs(uid('msg'), [
          insertItem(positionArgs(good, [{ installment: 0, amountCents: 3000 }])),
          insertItem(
            positionArgs(bad, [{ installment: 0, amountCents: 3000, transfers: [{ amountCents: 2000 }] }]),
          ),
          insertItem(
            positionArgs(badIban, [
              {
                installment: 0,
                amountCents: 3000,
                transfers: [{ amountCents: 3000, iban: 'IT00X0542811101000000123456' }],
              },
            ]),
          ),
        ]),
      );
      expectOk(answer);
      expect(answer.summary).to.deep.equal({ itemCount: '3', okCount: '1', koCount: '2' });
      const [ok, sum, iban] = items(answer);
      expect(ok!.outcome).to.equal('OK');
      expect(sum!.fault).to.include({
        faultCode: 'PPAY_INVALID_INPUT',
        field: 'position.option[0].transfer',
      });
      expect(iban!.fault!.faultCode).to.equal('PPAY_INVALID_INPUT');
      const enteId = (await ente()).id;
      expect(await ctx.store.positions.findByPositionId(enteId, good)).to.not.equal(null);
      expect(await ctx.store.positions.findByPositionId(enteId, bad)).to.equal(null);
      expect(await ctx.store.positions.findByPositionId(enteId, badIban)).to.equal(null);
      const after = await businessSnapshot(ctx.db);
      const added = (table: string) => (after[table] ?? 0) - (before[table] ?? 0);
      expect([added('positions'), added('payment_options'), added('transfers')]).to.deep.equal([1, 1, 1]);
    });

    it('updates a position: kept installments keep their IUV, new ones get new notices', async () => {
      const positionId = uid('TARI');
      const inserted = await demo.call(
        'uploadDebtPositions',
        uploadArgs(uid('msg'), [
          insertItem(positionArgs(positionId, [{ installment: 0, amountCents: 9000 }])),
        ]),
      );
      const single = notices(items(inserted)[0])[0]!;
      const update = positionArgs(positionId, [
        { installment: 0, amountCents: 9900 },
        { installment: 1, amountCents: 4950 },
        { installment: 2, amountCents: 4950 },
      ]);
      const answer = await demo.call(
        'uploadDebtPositions',
        uploadArgs(uid('msg'), [{ action: 'UPDATE', position: update }]),
      );
      const updated = notices(items(answer)[0]);
      expect(updated.map((n) => Number(n.amountCents))).to.deep.equal([9900, 4950, 4950]);
      expect(updated[0]!.iuv).to.equal(single.iuv);
      expect(new Set(updated.map((n) => n.iuv)).size).to.equal(3);
    });

    it('refuses to update a paid position (PPAY_INVALID_STATE) and an unknown one (PPAY_POSITION_UNKNOWN)', async () => {
      const positionId = uid('TARI');
      await demo.call(
        'uploadDebtPositions',
        uploadArgs(uid('msg'), [
          insertItem(positionArgs(positionId, [{ installment: 0, amountCents: 9000 }])),
        ]),
      );
      const stored = await ctx.store.positions.findByPositionId((await ente()).id, positionId);
      await ctx.store.positions.setOptionStatus(stored!.options[0]!.id, 'PAID', {
        cause: 'test',
        actor: 'mocha',
      });
      await ctx.store.positions.transition(stored!.id, 'PAID', { cause: 'test', actor: 'mocha' });
      const change = positionArgs(positionId, [{ installment: 0, amountCents: 9500 }]);
      const answer = await demo.call(
        'uploadDebtPositions',
        uploadArgs(uid('msg'), [
          { action: 'UPDATE', position: change },
          { action: 'UPDATE', position: positionArgs(uid('TARI'), [{ installment: 0, amountCents: 9500 }]) },
        ]),
      );
      const cancelled = await demo.call(
        'uploadDebtPositions',
        uploadArgs(uid('msg'), [{ action: 'CANCEL', cancellation: { positionId } }]),
      );
      const [update, unknown] = items(answer);
      const [cancel] = items(cancelled);
      expect(update!.fault!.faultCode).to.equal('PPAY_INVALID_STATE');
      expect(unknown!.fault!.faultCode).to.equal('PPAY_POSITION_UNKNOWN');
      expect(cancel!.fault!.faultCode).to.equal('PPAY_INVALID_STATE');
      expect((await ctx.store.positions.findById(stored!.id))!.options[0]!.amountCents).to.equal(9000);
    });

    it('cancels through the state machine, a second CANCEL being OK, and checks the action', async () => {
      const positionId = uid('TARI');
      await demo.call(
        'uploadDebtPositions',
        uploadArgs(uid('msg'), [
          insertItem(positionArgs(positionId, [{ installment: 0, amountCents: 1000 }])),
        ]),
      );
      const answer = await demo.call(
        'uploadDebtPositions',
        uploadArgs(uid('msg'), [
          { action: 'CANCEL', cancellation: { positionId, reason: 'emesso per errore' } },
          { action: 'INSERT', cancellation: { positionId: uid('TARI') } },
        ]),
      );
      const [cancel, mismatch] = items(answer);
      expect(cancel!.outcome).to.equal('OK');
      expect(mismatch!.fault).to.include({ faultCode: 'PPAY_INVALID_INPUT', field: 'action' });
      const stored = await ctx.store.positions.findByPositionId((await ente()).id, positionId);
      expect(stored!.status).to.equal('CANCELLED');
      const events = await ctx.store.events.listFor('position', stored!.id);
      expect(events.at(-1)).to.include({ toStatus: 'CANCELLED', actor: `gestionale:${DEMO.username}` });
      const again = await demo.call(
        'uploadDebtPositions',
        uploadArgs(uid('msg'), [{ action: 'CANCEL', cancellation: { positionId } }]),
      );
      expect(items(again)[0]!.outcome).to.equal('OK');
      const error = await verifyPaymentNotice(ctx.store, {
        caller: NODE_CALLER,
        fiscalCode: EC,
        noticeNumber: stored!.options[0]!.noticeNumber!,
      }).catch((err: unknown) => err);
      expect(isDomainError(error, 'POSITION_CANCELLED')).to.equal(true);
    });

    it('answers PPAY_DUPLICATE_IN_MESSAGE for a positionId repeated in one message', async () => {
      const positionId = uid('TARI');
      const answer = await demo.call(
        'uploadDebtPositions',
        uploadArgs(uid('msg'), [
          insertItem(positionArgs(positionId, [{ installment: 0, amountCents: 1000 }])),
          insertItem(positionArgs(positionId, [{ installment: 0, amountCents: 1000 }])),
          { action: 'CANCEL', cancellation: { positionId: uid('TARI') } },
        ]),
      );
      const [first, second, third] = items(answer);
      expect(first!.outcome).to.equal('OK');
      expect(second!.fault).to.include({
        faultCode: 'PPAY_DUPLICATE_IN_MESSAGE',
        field: 'position.positionId',
      });
      expect(third!.fault!.faultCode).to.equal('PPAY_POSITION_UNKNOWN');
    });

    it('does not let a client reach a position of a service it is not bound to', async () => {
      const positionId = uid('MENSA');
      await demo.call(
        'uploadDebtPositions',
        uploadArgs(
          uid('msg'),
          [insertItem(positionArgs(positionId, [{ installment: 0, amountCents: 1000 }]))],
          'MENSA',
        ),
      );
      expectKo(
        await tariOnly.call('getDebtPosition', { enteFiscalCode: EC, positionId }),
        'PPAY_POSITION_UNKNOWN',
      );
      expectKo(
        await tariOnly.call(
          'uploadDebtPositions',
          uploadArgs(uid('msg'), [{ action: 'CANCEL', cancellation: { positionId } }], 'MENSA'),
        ),
        'PPAY_UNAUTHORIZED',
      );
      const viaTari = await tariOnly.call(
        'uploadDebtPositions',
        uploadArgs(uid('msg'), [{ action: 'CANCEL', cancellation: { positionId } }]),
      );
      expect(items(viaTari)[0]!.fault!.faultCode).to.equal('PPAY_POSITION_UNKNOWN');
      expectKo(
        await demo.call('getDebtPosition', { enteFiscalCode: EC, positionId: uid('NONE') }),
        'PPAY_POSITION_UNKNOWN',
      );
    });
  });

  describe('uploadDebtPositions above the synchronous threshold', () => {
    it('answers ACCEPTED, processes in the worker, and shows the outcome by uploadId, messageId and page', async () => {
      const messageId = uid('big');
      const ids = [1, 2, 3, 4, 5].map(() => uid('TARI'));
      const args = uploadArgs(messageId, [
        ...ids.slice(0, 4).map((id) => insertItem(positionArgs(id, [{ installment: 0, amountCents: 2000 }]))),
        { action: 'UPDATE', position: positionArgs(ids[4]!, [{ installment: 0, amountCents: 2000 }]) },
      ]);
      const accepted = await demo.call('uploadDebtPositions', args);
      expectOk(accepted);
      expect(accepted.status).to.equal('ACCEPTED');
      expect(accepted.summary).to.deep.equal({ itemCount: '5', okCount: '0', koCount: '0' });
      expect(accepted.itemOutcome).to.equal(undefined);
      await worker.idle();
      const uploadId = accepted.uploadId as string;
      const outcome = await demo.call('getUploadOutcome', { enteFiscalCode: EC, uploadId });
      expectOk(outcome);
      expect(outcome).to.deep.include({
        messageId,
        source: 'SOAP',
        serviceCode: 'TARI',
        status: 'PROCESSED',
      });
      expect(outcome.summary).to.deep.equal({ itemCount: '5', okCount: '4', koCount: '1' });
      expect(items(outcome)).to.have.length(5);
      const page = await demo.call('getUploadOutcome', {
        enteFiscalCode: EC,
        messageId,
        pageNumber: 3,
        pageSize: 2,
      });
      expect(page.pageInfo).to.deep.equal({
        pageNumber: '3',
        pageSize: '2',
        totalItems: '5',
        totalPages: '3',
      });
      expect(items(page).map((i) => Number(i.sequence))).to.deep.equal([5]);
      expect(items(page)[0]!.fault!.faultCode).to.equal('PPAY_POSITION_UNKNOWN');
      const retry = await demo.call('uploadDebtPositions', args);
      expect(retry).to.deep.include({ uploadId, status: 'PROCESSED' });
      expect(items(retry)).to.have.length(5);
    });

    it('announces the processed upload with one notifyUploadOutcome outbox row for the client', async () => {
      const messageId = uid('big');
      const accepted = await demo.call(
        'uploadDebtPositions',
        uploadArgs(
          messageId,
          [1, 2, 3, 4].map(() =>
            insertItem(positionArgs(uid('TARI'), [{ installment: 0, amountCents: 700 }])),
          ),
        ),
      );
      await worker.idle();
      const rows = (await ctx.store.outbox.list()).filter(
        (m) =>
          m.topic === NOTIFY_UPLOAD_OUTCOME &&
          (m.payload as { uploadId: string }).uploadId === accepted.uploadId,
      );
      expect(rows).to.have.length(1);
      const client = await ctx.store.clients.findByUsername(DEMO.username);
      expect(rows[0]).to.include({ status: 'PENDING', target: String(client!.id) });
      expect(rows[0]!.payload).to.deep.include({
        notificationId: rows[0]!.id,
        enteFiscalCode: EC,
        serviceCode: 'TARI',
        messageId,
        source: 'SOAP',
        summary: { itemCount: 4, okCount: 4, koCount: 0 },
      });
      expect((rows[0]!.payload as { itemOutcome: unknown[] }).itemOutcome).to.have.length(4);
    });

    it('answers KO PPAY_UPLOAD_UNKNOWN for an unknown upload and for one of a service the client is not bound to', async () => {
      expectKo(
        await demo.call('getUploadOutcome', { enteFiscalCode: EC, uploadId: 'upl-none' }),
        'PPAY_UPLOAD_UNKNOWN',
      );
      const messageId = uid('mensa');
      await demo.call(
        'uploadDebtPositions',
        uploadArgs(
          messageId,
          [insertItem(positionArgs(uid('MENSA'), [{ installment: 0, amountCents: 700 }]))],
          'MENSA',
        ),
      );
      expectKo(
        await tariOnly.call('getUploadOutcome', { enteFiscalCode: EC, messageId }),
        'PPAY_UPLOAD_UNKNOWN',
      );
      expectOk(await demo.call('getUploadOutcome', { enteFiscalCode: EC, messageId }));
    });
  });

  it('is callable by a plain node-soap client built from the served WSDL with hasTimeStamp', async () => {
    const endpoint = `${server.url}/ws/gestionale`;
    const client = await soap.createClientAsync(`${endpoint}?wsdl`, { endpoint });
    client.setSecurity(
      new soap.WSSecurity(DEMO.username, DEMO.password, { passwordType: 'PasswordText', hasTimeStamp: true }),
    );
    const [answer] = (await client.getDebtPositionAsync({
      enteFiscalCode: EC,
      positionId: 'DEMO-TARI-0001',
    })) as [Answer];
    expect(answer.outcome).to.equal('OK');
  });
});
