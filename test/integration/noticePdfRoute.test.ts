// GET /pay/avviso/<ente>/<notice>.pdf on the citizen pages: a real HTTP server on port 0 over the
// suite's database serves the notice PDF of a payable or paid position, and a 404 page otherwise.

import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import { expect } from 'chai';
import { redirectSettingsFor } from '../../src/app/gestionale/paymentSession.ts';
import type { StoredPosition } from '../../src/db/repositories/positions.ts';
import { citizenRouter } from '../../src/portal/citizen/router.ts';
import { forEachDatabase, seedEnte, type SeededEnte } from '../support/db.ts';
import { allocateNotices, CHANGE, samplePosition } from './helpers.ts';

forEachDatabase('citizen pages: the notice PDF', (ctx) => {
  let server: Server;
  let baseUrl: string;
  let seeded: SeededEnte;
  let position: StoredPosition;

  before(async () => {
    const app = express();
    app.use('/pay', citizenRouter(ctx.store, redirectSettingsFor({}), { onUnexpected: () => {} }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    seeded = await seedEnte(ctx.store);
    const draft = samplePosition(seeded.ente.fiscalCode, 2);
    const notices = await allocateNotices(ctx.store, seeded.ente.id, draft.options.length);
    position = await ctx.store.positions.insert(seeded.ente.id, seeded.service.id, draft, {
      notices,
      ...CHANGE,
    });
  });

  after(async () => {
    await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  });

  const noticeOf = (installment: number): string => {
    const found = position.options.find((o) => o.installment === installment)?.noticeNumber;
    if (!found) throw new Error(`no notice number for installment ${installment}`);
    return found;
  };
  const debtorOf = () => position.debtor?.fiscalCode ?? '';
  const get = (ente: string, file: string, debtor: string = debtorOf()) =>
    fetch(`${baseUrl}/pay/avviso/${ente}/${file}?debtor=${encodeURIComponent(debtor)}`);

  it("answers 404 without the debtor's fiscal code, or with another one", async () => {
    for (const debtor of ['', 'VRDGNN70A01L219X']) {
      const res = await get(seeded.ente.fiscalCode, `${noticeOf(0)}.pdf`, debtor);
      expect(res.status).to.equal(404);
      expect(await res.text()).to.include('Avviso non trovato');
    }
    const lower = await get(seeded.ente.fiscalCode, `${noticeOf(0)}.pdf`, debtorOf().toLowerCase());
    expect(lower.status).to.equal(200);
  });

  it('serves the PDF of a payable position, by any of its notice numbers', async () => {
    for (const installment of [0, 2]) {
      const res = await get(seeded.ente.fiscalCode, `${noticeOf(installment)}.pdf`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('application/pdf');
      expect(res.headers.get('content-disposition')).to.include(`avviso-${noticeOf(installment)}.pdf`);
      const body = Buffer.from(await res.arrayBuffer());
      expect(body.subarray(0, 5).toString('latin1')).to.equal('%PDF-');
    }
  });

  it('answers the same bytes twice for an unchanged position', async () => {
    const file = `${noticeOf(0)}.pdf`;
    const a = Buffer.from(await (await get(seeded.ente.fiscalCode, file)).arrayBuffer());
    const b = Buffer.from(await (await get(seeded.ente.fiscalCode, file)).arrayBuffer());
    expect(a.equals(b)).to.equal(true);
  });

  it('answers 404 with a page for an unknown notice number, ente or file name', async () => {
    for (const [ente, file] of [
      [seeded.ente.fiscalCode, '399999999999999999.pdf'],
      ['99999999999', `${noticeOf(0)}.pdf`],
      [seeded.ente.fiscalCode, `${noticeOf(0)}.txt`],
    ] as const) {
      const res = await get(ente, file);
      expect(res.status).to.equal(404);
      expect(res.headers.get('content-type')).to.match(/^text\/html/);
      expect(await res.text()).to.include('Avviso non trovato');
    }
  });

  const positionIn = async (status: 'PAID' | 'CANCELLED'): Promise<StoredPosition> => {
    const draft = samplePosition(seeded.ente.fiscalCode);
    const notices = await allocateNotices(ctx.store, seeded.ente.id, draft.options.length);
    const inserted = await ctx.store.positions.insert(seeded.ente.id, seeded.service.id, draft, {
      notices,
      ...CHANGE,
    });
    await ctx.store.positions.transition(inserted.id, status, CHANGE);
    return inserted;
  };

  it('serves the PDF of a paid position', async () => {
    const paid = await positionIn('PAID');
    const res = await get(seeded.ente.fiscalCode, `${paid.options[0]?.noticeNumber}.pdf`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('application/pdf');
  });

  it('answers 404 for a cancelled position', async () => {
    const cancelled = await positionIn('CANCELLED');
    const res = await get(seeded.ente.fiscalCode, `${cancelled.options[0]?.noticeNumber}.pdf`);
    expect(res.status).to.equal(404);
  });
});
