// The emulator settles a day (src/emulator/settle.ts, pagopa-facts §7–8): PSPs pay notices of the
// demo enti (current model, one with two beneficiaries) and of a legacy ente (RPT/RT), then the day's
// reporting flows per PSP and EC carry the right lines and totals, each EC's treasury folder gets a
// camt.053 and a CSV with one credit per flow (remittance, TRN, true amount), a second run changes
// nothing, a late payment lands in a new flow with the next progressive, injected faults produce the
// described flows and credits, and a revised flow is what the node serves afterwards.

import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { forEachDatabase, TEST_IBAN } from '../support/db.ts';
import { DomainError } from '../../src/domain/errors.ts';
import { nextWeekday, reviseFlow, settleDay, type SettleDayResult } from '../../src/emulator/settle.ts';
import { createFlowStore } from '../../src/emulator/flowStore.ts';
import { readFlussoRiversamento } from '../../src/pagopa/flussoRiversamento.ts';
import { readCamt053 } from '../../src/reconciliation/statements/camt053.ts';
import { readCashJournal } from '../../src/reconciliation/statements/cashJournal.ts';
import type { BankStatement, FlowDocument } from '../../src/reconciliation/model.ts';
import {
  COMUNE,
  DEMO_STATION,
  fetchedFlow,
  LEGACY_STATION,
  listedFlows,
  startSettleWorld,
  UNIONE,
  type PaidLine,
  type SettleWorld,
} from './emulatorSettleSupport.ts';

const BANCA = 'BCITITMM';
const CREDITO = 'UNCRITMM';
const IBAN_COMUNE = 'IT92F0306901000100000046001';
const IBAN_UNIONE = 'IT40M0200801000000100200300';

/** A flow's lines as comparable text, in any order. */
const lineTexts = (
  lines: Array<{ iuv: string; iur: string; transferIndex: number | null; amountCents: number }>,
) => lines.map((l) => `${l.iuv}/${l.iur}/${l.transferIndex}/${l.amountCents}`).sort();

const sum = (lines: Array<{ amountCents: number }>) => lines.reduce((t, l) => t + l.amountCents, 0);

forEachDatabase('emulator: settling a day into reporting flows and treasury statements', (ctx) => {
  let world: SettleWorld;
  let settlementDate: string;
  /** Every line paid in this suite, in order. */
  const paid: PaidLine[] = [];

  before(async () => {
    world = await startSettleWorld(ctx);
    settlementDate = nextWeekday(world.today);
  });
  after(() => world?.close());

  async function pay(positionId: string, psp: string): Promise<PaidLine[]> {
    const lines = await world.pay(world.notice(positionId), psp);
    paid.push(...lines);
    return lines;
  }

  async function storedFlow(flowId: string): Promise<FlowDocument> {
    const flow = await createFlowStore(ctx.db).flows.latest(flowId);
    expect(flow, flowId).to.not.equal(null);
    return readFlussoRiversamento(flow!.xml);
  }

  function flowOf(result: SettleDayResult, psp: string, ente: string) {
    const found = result.flows.filter((f) => f.pspId === psp && f.enteFiscalCode === ente);
    expect(found, `one flow ${psp} → ${ente}`).to.have.length(1);
    return found[0]!;
  }

  function readStatements(
    result: SettleDayResult,
    ente: string,
  ): { camt: BankStatement; csv: BankStatement } {
    const written = result.statements.filter((s) => s.enteFiscalCode === ente);
    expect(written, `one statement for ${ente}`).to.have.length(1);
    const { camt053File, cashJournalFile } = written[0]!;
    const folder = path.join(world.dataDir, 'treasury', ente, 'in');
    expect(path.dirname(camt053File)).to.equal(folder);
    expect(path.dirname(cashJournalFile)).to.equal(folder);
    expect(
      fs.readdirSync(folder).filter((f) => f.endsWith('.part')),
      'no partial file left',
    ).to.deep.equal([]);
    return {
      camt: readCamt053(fs.readFileSync(camt053File)),
      csv: readCashJournal(fs.readFileSync(cashJournalFile)),
    };
  }

  function treasuryFiles(): string[] {
    const root = path.join(world.dataDir, 'treasury');
    if (!fs.existsSync(root)) return [];
    return fs.readdirSync(root, { recursive: true, encoding: 'utf8' }).sort();
  }

  it('builds one flow per PSP and beneficiary EC, and one credit per flow in each EC statement', async () => {
    await pay('DEMO-TARI-0001', BANCA);
    await pay('DEMO-CANONE-0001', BANCA);
    await pay('DEMO-TARI-0002', CREDITO);
    const tefa = await pay('DEMO-TARI-TEFA-0001', CREDITO);
    expect(tefa.map((l) => l.ente)).to.deep.equal([COMUNE, UNIONE]);
    const legacyNotice = await world.legacyNotice('SETTLE-LEGACY-0001', 4200);
    paid.push(...(await world.pay(legacyNotice, BANCA)));

    const result = await settleDay({ store: ctx.store, dataDir: world.dataDir, date: world.today });

    expect(result).to.include({
      status: 'settled',
      date: world.today,
      settlementDate,
      alreadySettledLines: 0,
    });
    expect(result.flows.map((f) => f.flowId).sort()).to.deep.equal(
      [1, 2, 3]
        .map((n) => `${settlementDate}${BANCA}-${n}`)
        .concat([1, 2].map((n) => `${settlementDate}${CREDITO}-${n}`)),
    );
    const expected: Array<[string, string]> = [
      [BANCA, COMUNE],
      [BANCA, UNIONE],
      [BANCA, world.legacyEnte],
      [CREDITO, COMUNE],
      [CREDITO, UNIONE],
    ];
    const trns = new Set<string>();
    for (const [psp, ente] of expected) {
      const summary = flowOf(result, psp, ente);
      const lines = paid.filter((l) => l.psp === psp && l.ente === ente);
      expect(summary).to.include({
        revision: 1,
        paymentCount: lines.length,
        totalAmountCents: sum(lines),
        collectedCents: sum(lines),
        settlementDate,
      });
      expect(summary.trn.length).to.be.within(1, 35);
      trns.add(summary.trn);
      const doc = await storedFlow(summary.flowId);
      expect(doc).to.deep.include({
        flowId: summary.flowId,
        trn: summary.trn,
        settlementDate,
        paymentCount: lines.length,
        totalAmountCents: sum(lines),
      });
      expect(doc.sender).to.include({ idType: 'B', id: psp });
      expect(doc.receiver).to.include({ idType: 'G', id: ente });
      expect(lineTexts(doc.payments)).to.deep.equal(lineTexts(lines));
      expect(doc.payments.every((p) => p.outcomeCode === '0' && p.outcomeDate === world.today)).to.equal(
        true,
      );
    }
    expect(trns.size, 'a fresh TRN per flow').to.equal(5);

    const ibans: Record<string, string> = {
      [COMUNE]: IBAN_COMUNE,
      [UNIONE]: IBAN_UNIONE,
      [world.legacyEnte]: TEST_IBAN,
    };
    expect(result.statements.map((s) => s.enteFiscalCode).sort()).to.deep.equal(Object.keys(ibans).sort());
    expect(result.files).to.have.length(6);
    for (const [ente, iban] of Object.entries(ibans)) {
      const { camt, csv } = readStatements(result, ente);
      const flows = result.flows.filter((f) => f.enteFiscalCode === ente);
      for (const statement of [camt, csv]) {
        expect(statement).to.include({ accountIban: iban, ownerFiscalCode: ente });
        expect(statement.entries).to.have.length(flows.length);
        for (const flow of flows) {
          const entry = statement.entries.find((e) => e.trn === flow.trn);
          expect(entry, `credit of ${flow.flowId}`).to.deep.include({
            direction: 'CRDT',
            amountCents: flow.collectedCents,
            valueDate: settlementDate,
            remittanceInformation: `/PUR/LGPE-RIVERSAMENTO/URI/${flow.flowId}`,
          });
          expect(entry!.debtorName).to.match(/ Servizio pagoPA$/);
        }
      }
      expect(csv.entries.map((e) => [e.trn, e.amountCents])).to.deep.equal(
        camt.entries.map((e) => [e.trn, e.amountCents]),
      );
    }
    expect(result.credits).to.have.length(5);
  });

  it('settling the same day again creates no flow, no credit and no file, and says so', async () => {
    const before = treasuryFiles();
    const flows = await ctx.db('emulator_flows').count<{ n: number | string }[]>({ n: '*' });
    const result = await settleDay({ store: ctx.store, dataDir: world.dataDir, date: world.today });
    expect(result).to.deep.include({
      status: 'unchanged',
      flows: [],
      credits: [],
      files: [],
      alreadySettledLines: paid.length,
    });
    expect(treasuryFiles()).to.deep.equal(before);
    const after = await ctx.db('emulator_flows').count<{ n: number | string }[]>({ n: '*' });
    expect(Number(after[0]!.n)).to.equal(Number(flows[0]!.n));
  });

  it('puts a payment completed later that day into a new flow with the next progressive', async () => {
    const late = await pay('DEMO-TARI-0003', BANCA);
    const result = await settleDay({ store: ctx.store, dataDir: world.dataDir, date: world.today });
    expect(result.status).to.equal('settled');
    expect(result.flows).to.have.length(1);
    expect(result.flows[0]).to.include({
      flowId: `${settlementDate}${BANCA}-4`,
      enteFiscalCode: COMUNE,
      paymentCount: 1,
      totalAmountCents: late[0]!.amountCents,
    });
    expect(lineTexts((await storedFlow(result.flows[0]!.flowId)).payments)).to.deep.equal(lineTexts(late));
    expect(result.credits).to.have.length(1);
    expect(result.credits[0]).to.include({ amountCents: late[0]!.amountCents, trn: result.flows[0]!.trn });
    const { camt } = readStatements(result, COMUNE);
    expect(camt.statementId, 'the second statement of the day').to.equal(
      `EMU-${settlementDate.replaceAll('-', '')}-${COMUNE}-2`,
    );
    expect(camt.entries.map((e) => e.remittanceInformation)).to.deep.equal([
      `/PUR/LGPE-RIVERSAMENTO/URI/${settlementDate}${BANCA}-4`,
    ]);
  });

  describe('injected reporting faults, a revised flow and the node operations', () => {
    let faulty: SettleDayResult;
    let lines: Record<string, PaidLine[]>;

    before(async () => {
      lines = {
        dropped: await pay('DEMO-TARI-0004', BANCA),
        wrongAmount: await pay('DEMO-TARI-0005', BANCA),
        duplicated: await pay('DEMO-CANONE-0002', CREDITO),
        uncredited: await pay('DEMO-CANONE-0003', CREDITO),
      };
      const iuv = (name: string) => lines[name]![0]!.iuv;
      faulty = await settleDay({
        store: ctx.store,
        dataDir: world.dataDir,
        date: world.today,
        faults: {
          dropLine: [iuv('dropped')],
          lineAmountCents: { [iuv('wrongAmount')]: 100 },
          duplicateLine: [iuv('duplicated')],
          omitCredit: [iuv('uncredited')],
        },
      });
    });

    it('reports the faulty flows self-consistently, while credits stay the collected amounts', async () => {
      const comune = flowOf(faulty, BANCA, COMUNE);
      expect(comune.flowId).to.equal(`${settlementDate}${BANCA}-5`);
      const comuneDoc = await storedFlow(comune.flowId);
      expect(comuneDoc.payments.map((p) => [p.iuv, p.amountCents])).to.deep.equal([
        [lines.wrongAmount![0]!.iuv, 100],
      ]);
      expect(comuneDoc).to.include({ paymentCount: 1, totalAmountCents: 100 });
      const collected = lines.dropped![0]!.amountCents + lines.wrongAmount![0]!.amountCents;
      expect(comune).to.include({ totalAmountCents: 100, collectedCents: collected });

      const unione = flowOf(faulty, CREDITO, UNIONE);
      const unioneDoc = await storedFlow(unione.flowId);
      const dup = lines.duplicated![0]!;
      const unc = lines.uncredited![0]!;
      expect(unioneDoc.payments.map((p) => p.iuv)).to.deep.equal([dup.iuv, dup.iuv, unc.iuv]);
      expect(unioneDoc).to.include({
        paymentCount: 3,
        totalAmountCents: 2 * dup.amountCents + unc.amountCents,
      });

      expect(faulty.credits.map((c) => [c.flowId, c.amountCents])).to.deep.equal([
        [comune.flowId, collected],
      ]);
      expect(faulty.withheldCredits).to.deep.equal([
        { flowId: unione.flowId, enteFiscalCode: UNIONE, amountCents: dup.amountCents + unc.amountCents },
      ]);
      expect(faulty.statements.map((s) => s.enteFiscalCode)).to.deep.equal([COMUNE]);
    });

    it('serves a revised flow (same id and TRN, later dataOraFlusso) through the node operations', async () => {
      const comune = flowOf(faulty, BANCA, COMUNE);
      const listedBefore = await listedFlows(world.server.url, DEMO_STATION, {
        identificativoDominio: COMUNE,
      });
      expect(listedBefore.get(comune.flowId)).to.equal(comune.flowDateTime);

      const revised = await reviseFlow({ store: ctx.store, flowId: comune.flowId });
      expect(revised).to.include({
        flowId: comune.flowId,
        revision: 2,
        previousRevision: 1,
        trn: comune.trn,
        settlementDate,
        paymentCount: 2,
        totalAmountCents: lines.dropped![0]!.amountCents + lines.wrongAmount![0]!.amountCents,
      });
      expect(revised.flowDateTime > comune.flowDateTime, 'a later dataOraFlusso').to.equal(true);

      const listed = await listedFlows(world.server.url, DEMO_STATION, { identificativoDominio: COMUNE });
      expect(listed.get(comune.flowId)).to.equal(revised.flowDateTime);
      const served = await fetchedFlow(world.server.url, DEMO_STATION, comune.flowId, {
        identificativoDominio: COMUNE,
        identificativoPSP: BANCA,
      });
      expect(served.xml).to.equal(revised.xml);
      const doc = readFlussoRiversamento(served.xml!);
      expect(lineTexts(doc.payments)).to.deep.equal(lineTexts([...lines.dropped!, ...lines.wrongAmount!]));
      expect(doc).to.include({ trn: comune.trn, flowDateTime: revised.flowDateTime });

      // After the revision nothing more is owed for it; the withheld credit is written now.
      const next = await settleDay({ store: ctx.store, dataDir: world.dataDir, date: world.today });
      const unione = flowOf(faulty, CREDITO, UNIONE);
      expect(next.flows).to.deep.equal([]);
      expect(next.credits.map((c) => [c.flowId, c.amountCents, c.trn, c.remittance])).to.deep.equal([
        [unione.flowId, unione.collectedCents, unione.trn, `/PUR/LGPE-RIVERSAMENTO/URI/${unione.flowId}`],
      ]);
      const { camt } = readStatements(next, UNIONE);
      expect(camt.entries.map((e) => e.amountCents)).to.deep.equal([unione.collectedCents]);
      const again = await settleDay({ store: ctx.store, dataDir: world.dataDir, date: world.today });
      expect(again.status).to.equal('unchanged');
    });

    it('lists to each station only the flows of its own enti, filtered by EC and PSP', async () => {
      const all = await ctx.db('emulator_flows').distinct('flow_id', 'id_dominio', 'psp_id');
      const ofDemo = all.filter((f) => f.id_dominio !== world.legacyEnte).map((f) => f.flow_id as string);
      const ofLegacy = all.filter((f) => f.id_dominio === world.legacyEnte).map((f) => f.flow_id as string);
      expect([...(await listedFlows(world.server.url, DEMO_STATION)).keys()].sort()).to.deep.equal(
        ofDemo.sort(),
      );
      expect([...(await listedFlows(world.server.url, LEGACY_STATION)).keys()]).to.deep.equal(ofLegacy);
      const unioneCredito = await listedFlows(world.server.url, DEMO_STATION, {
        identificativoDominio: UNIONE,
        identificativoPSP: CREDITO,
      });
      expect([...unioneCredito.keys()].sort()).to.deep.equal(
        all
          .filter((f) => f.id_dominio === UNIONE && f.psp_id === CREDITO)
          .map((f) => f.flow_id as string)
          .sort(),
      );
      const foreign = await fetchedFlow(world.server.url, DEMO_STATION, ofLegacy[0]!);
      expect(foreign).to.deep.equal({ xml: null, faultCode: 'PPT_ID_FLUSSO_SCONOSCIUTO' });
      const own = await fetchedFlow(world.server.url, LEGACY_STATION, ofLegacy[0]!);
      expect(readFlussoRiversamento(own.xml!).receiver.id).to.equal(world.legacyEnte);
    });

    it('refuses faults that would leave a flow without lines, writing nothing, and settles it afterwards', async () => {
      const [mensa] = await pay('DEMO-MENSA-0001', 'BPPIITRRXXX');
      const flows = async () =>
        Number((await ctx.db('emulator_flows').count<{ n: number | string }[]>({ n: '*' }))[0]!.n);
      const before = await flows();
      const error = await settleDay({
        store: ctx.store,
        dataDir: world.dataDir,
        date: world.today,
        faults: { dropLine: [mensa!.iuv] },
      }).catch((err: unknown) => err);
      expect(error).to.be.instanceOf(DomainError).and.to.include({ code: 'INVALID_INPUT' });
      expect(await flows()).to.equal(before);
      const result = await settleDay({ store: ctx.store, dataDir: world.dataDir, date: world.today });
      expect(result.flows.map((f) => [f.flowId, f.paymentCount, f.totalAmountCents])).to.deep.equal([
        [`${settlementDate}BPPIITRRXXX-1`, 1, mensa!.amountCents],
      ]);
    });
  });

  it('refuses a date that is not YYYY-MM-DD and a flow id it does not hold', async () => {
    const refused = async (run: Promise<unknown>) => {
      try {
        await run;
      } catch (err) {
        return err;
      }
      return expect.fail('expected a DomainError');
    };
    expect(await refused(settleDay({ store: ctx.store, dataDir: world.dataDir, date: '2026-02-30' })))
      .to.be.instanceOf(DomainError)
      .and.to.include({ code: 'INVALID_DATE' });
    expect(await refused(reviseFlow({ store: ctx.store, flowId: '2026-01-01NOPSP-1' })))
      .to.be.instanceOf(DomainError)
      .and.to.include({ code: 'INVALID_INPUT' });
  });
});
