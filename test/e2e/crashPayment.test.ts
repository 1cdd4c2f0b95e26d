// Issue 4 acceptance: the connector is killed (SIGKILL) between get payment and send receipt, then
// restarted on the same data folder; the receipt the node retries is accepted and the position is
// paid exactly once. Real processes (`ppay start`), a real SQLite file, a SOAP client built from
// the official paForNode.wsdl when the shared spec is present (else from ours).
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import * as soap from 'soap';
import { createDb } from '../../src/db/knex.ts';
import { SPEC_DIR, specAvailable } from '../support/officialSchemas.ts';
import { ppayEnv, ROOT, startPpay, stopPpay } from '../support/ppayProcess.ts';

const EC = '01234567897';
const CALLER = { idPA: EC, idBrokerPA: '12345678903', idStation: '12345678903_01' };

async function paForNode(url: string) {
  const wsdl = specAvailable()
    ? path.join(SPEC_DIR, 'current/paForNode.wsdl')
    : path.join(ROOT, 'wsdl/paForNode.wsdl');
  return soap.createClientAsync(wsdl, { endpoint: `${url}/ws/pagopa/paForNode` });
}

describe('crash between get payment and send receipt (real processes, SIGKILL)', function () {
  this.timeout(90000);
  let dataDir: string;
  let running: ChildProcessWithoutNullStreams | undefined;

  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-crash-'));
  });
  after(async () => {
    if (running && running.exitCode === null) await stopPpay(running, 'SIGTERM');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('accepts the retried receipt after a restart and pays the position exactly once', async () => {
    const first = await startPpay(ppayEnv(dataDir));
    running = first.child;
    const db = createDb(`sqlite:${path.join(dataDir, 'ppay.sqlite')}`);
    try {
      const option = await db('payment_options as o')
        .join('positions as p', 'p.id', 'o.position_id')
        .where('p.position_id', 'DEMO-TARI-0002')
        .first('o.notice_number', 'o.iuv', 'o.amount_cents', 'p.id as position_id');
      expect(option, 'demo position').to.not.equal(undefined);
      const qrCode = { fiscalCode: EC, noticeNumber: option.notice_number };

      const client = await paForNode(first.url);
      const [verified] = await client.paVerifyPaymentNoticeAsync({ ...CALLER, qrCode });
      expect(verified.outcome).to.equal('OK');
      const [payment] = await client.paGetPaymentAsync({ ...CALLER, qrCode, amount: '87.50' });
      expect(payment.outcome).to.equal('OK');

      await stopPpay(first.child, 'SIGKILL');
      const second = await startPpay(ppayEnv(dataDir));
      running = second.child;

      const transfer = payment.data.transferList.transfer;
      const transfers = (Array.isArray(transfer) ? transfer : [transfer]).map(
        (t: Record<string, unknown>) => ({
          idTransfer: t.idTransfer,
          transferAmount: t.transferAmount,
          fiscalCodePA: t.fiscalCodePA,
          IBAN: t.IBAN,
          remittanceInformation: t.remittanceInformation,
          transferCategory: t.transferCategory,
        }),
      );
      const receipt = {
        receiptId: 'crash0000000000000000000000000001',
        noticeNumber: option.notice_number,
        fiscalCode: EC,
        outcome: 'OK',
        creditorReferenceId: option.iuv,
        paymentAmount: payment.data.paymentAmount,
        description: payment.data.description,
        companyName: payment.data.companyName,
        debtor: payment.data.debtor,
        transferList: { transfer: transfers },
        idPSP: 'BCITITMM',
        PSPCompanyName: 'Banca emulata',
        idChannel: '88888888888_01',
        channelDescription: 'app',
        paymentDateTime: '2026-11-26T10:00:00',
      };
      const retried = await paForNode(second.url);
      const [accepted] = await retried.paSendRTAsync({ ...CALLER, receipt });
      expect(accepted.outcome).to.equal('OK');
      const [again] = await retried.paSendRTAsync({ ...CALLER, receipt });
      expect(again.outcome).to.equal('KO');
      expect(again.fault.faultCode).to.equal('PAA_RECEIPT_DUPLICATA');

      const position = await db('positions').where('id', option.position_id).first('status');
      expect(position.status).to.equal('PAID');
      const receipts = await db('receipts').where({ iuv: option.iuv });
      expect(receipts).to.have.length(1);
      const paidEvents = await db('events').where({
        entity_type: 'position',
        entity_id: String(option.position_id),
        to_status: 'PAID',
      });
      expect(paidEvents).to.have.length(1);
    } finally {
      await db.destroy();
    }
  });
});
