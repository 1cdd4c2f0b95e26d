// Issue 4 acceptance, independent client: Debian's python3-zeep, built from the OFFICIAL
// paForNode.wsdl, pays a seeded notice through the connector (verify → get payment → send receipt).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { forEachDatabase } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/soapServer.ts';
import { SPEC_DIR, specAvailable } from '../support/officialSchemas.ts';
import { seedDemo } from '../../src/app/seedDemo.ts';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';

const SCRIPT = `
import sys, zeep
wsdl, url, notice = sys.argv[1:4]
c = zeep.Client(wsdl)
svc = c.create_service('{http://pagopa-api.pagopa.gov.it/paForNode}paForNodeBinding', url)
caller = dict(idPA='01234567897', idBrokerPA='12345678903', idStation='12345678903_01')
qr = {'fiscalCode': '01234567897', 'noticeNumber': notice}
r = svc.paVerifyPaymentNotice(**caller, qrCode=qr)
amount = r.paymentList.paymentOptionDescription.amount
g = svc.paGetPayment(**caller, qrCode=qr, amount=amount)
t = g.data.transferList.transfer
rec = dict(receiptId='zeep' + notice, noticeNumber=notice, fiscalCode='01234567897', outcome='OK',
  creditorReferenceId=g.data.creditorReferenceId, paymentAmount=g.data.paymentAmount,
  description=g.data.description, companyName=g.data.companyName, debtor=g.data.debtor,
  transferList={'transfer': [{'idTransfer': x.idTransfer, 'transferAmount': x.transferAmount,
    'fiscalCodePA': x.fiscalCodePA, 'IBAN': x.IBAN, 'remittanceInformation': x.remittanceInformation,
    'transferCategory': x.transferCategory} for x in t]},
  idPSP='BCITITMM', PSPCompanyName='Banca', idChannel='88888888888_01', channelDescription='app')
s = svc.paSendRT(**caller, receipt=rec)
print(r.outcome, g.outcome, s.outcome, g.data.paymentAmount)
`;

async function zeepAvailable(): Promise<boolean> {
  try {
    await run(PYTHON, ['-c', 'import zeep']);
    return true;
  } catch {
    return false;
  }
}

forEachDatabase('python3-zeep pays a notice with the official paForNode.wsdl', (ctx) => {
  let server: TestServer;
  let script: string;
  before(async function () {
    if (!specAvailable()) this.skip();
    if (!(await zeepAvailable())) {
      if (process.env.CI === 'true') throw new Error('python3-zeep is missing in CI (.ci/run installs it)');
      this.skip();
    }
    await seedDemo(ctx.store);
    server = await startTestServer(ctx.db, ctx.store);
    script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-zeep-')), 'pay.py');
    fs.writeFileSync(script, SCRIPT);
  });
  after(() => server?.close());

  it('verifies, gets the payment and sends the receipt; the position is then PAID', async () => {
    const position = await ctx.store.positions.findByPositionId(
      (await ctx.store.enti.getByFiscalCode('01234567897'))!.id,
      'DEMO-TARI-0003',
    );
    const notice = position!.options[0]!.noticeNumber!;
    const { stdout } = await run(PYTHON, [
      script,
      path.join(SPEC_DIR, 'current/paForNode.wsdl'),
      `${server.url}/ws/pagopa/paForNode`,
      notice,
    ]);
    expect(stdout.trim()).to.equal('OK OK OK 234.00');
    const paid = await ctx.store.positions.findById(position!.id);
    expect(paid?.status).to.equal('PAID');
  });
});
