// Every reporting flow the emulator produces validates against the OFFICIAL pagoPA schema
// FlussoRiversamento_1_0_4.xsd: the flows of a settled day (current model, two beneficiaries, a
// legacy RT), flows with injected reporting faults, a revised flow, and the flows as the node serves
// them base64 in nodoChiediFlussoRendicontazione.

import { expect } from 'chai';
import { forEachDatabase } from '../support/db.ts';
import { OFFICIAL_DOCUMENTS, specAvailable } from '../support/officialSchemas.ts';
import { reviseFlow, settleDay } from '../../src/emulator/settle.ts';
import { schemaFor } from '../../src/xml/schema.ts';
import {
  DEMO_STATION,
  fetchedFlow,
  LEGACY_STATION,
  listedFlows,
  startSettleWorld,
  type SettleWorld,
} from '../integration/emulatorSettleSupport.ts';

function expectOfficialFlow(xml: string, what: string): void {
  expect(schemaFor(OFFICIAL_DOCUMENTS.flusso104()).validateXml(xml), `${what}: ${xml}`).to.deep.equal({
    ok: true,
  });
}

forEachDatabase('emulator flows against the official FlussoRiversamento 1.0.4 schema', (ctx) => {
  let world: SettleWorld;

  before(async function () {
    if (!specAvailable()) this.skip();
    world = await startSettleWorld(ctx);
  });
  after(() => world?.close());

  it('every flow of a settled day, faulty and revised ones included, and as the node serves them', async () => {
    await world.pay(world.notice('DEMO-TARI-0001'), 'BCITITMM');
    await world.pay(world.notice('DEMO-TARI-TEFA-0001'), 'UNCRITMM');
    await world.pay(world.notice('DEMO-CANONE-0001'), 'BPPIITRRXXX');
    await world.pay(await world.legacyNotice('CONF-LEGACY-0001', 1999), 'UNCRITMM');
    const first = await settleDay({ store: ctx.store, dataDir: world.dataDir, date: world.today });
    expect(first.flows).to.have.length(5);

    const wrong = world.notice('DEMO-TARI-0002');
    const twice = world.notice('DEMO-CANONE-0002');
    await world.pay(wrong, 'BCITITMM');
    await world.pay(world.notice('DEMO-TARI-0003'), 'BCITITMM');
    await world.pay(twice, 'BPPIITRRXXX');
    const faulty = await settleDay({
      store: ctx.store,
      dataDir: world.dataDir,
      date: world.today,
      faults: { lineAmountCents: { [wrong.iuv]: 1 }, duplicateLine: [twice.iuv] },
    });
    expect(faulty.flows).to.have.length(2);
    await reviseFlow({ store: ctx.store, flowId: faulty.flows[0]!.flowId });

    const rows = await ctx
      .db('emulator_flows')
      .select<Array<{ flow_id: string; revision: number; xml: string }>>('flow_id', 'revision', 'xml');
    expect(rows).to.have.length(8);
    for (const row of rows) expectOfficialFlow(row.xml, `${row.flow_id} revision ${row.revision}`);

    for (const login of [DEMO_STATION, LEGACY_STATION]) {
      const listed = await listedFlows(world.server.url, login);
      expect(listed.size).to.be.greaterThan(0);
      for (const flowId of listed.keys()) {
        const served = await fetchedFlow(world.server.url, login, flowId);
        expect(served.faultCode, flowId).to.equal(null);
        expectOfficialFlow(served.xml!, `${flowId} as served`);
      }
    }
  });
});
