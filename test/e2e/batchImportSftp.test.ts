// Issue 7 point 6 end to end: a gestionale's nightly exchange through a real OpenSSH sshd (a
// loopback port, a temporary config, its key forced into the ente's drop folder) and a real
// `ppay import` process on a SQLite file: the gestionale uploads a ppay CSV with its `.sha256`
// sidecar over SFTP, the importer takes it, and the gestionale downloads the outcome over SFTP:
// one line per row, the IUVs and notice numbers stored for the good rows, the codes of the bad
// ones. Skipped, loudly, when sshd cannot run here.

import { expect } from 'chai';
import type SftpClient from 'ssh2-sftp-client';
import { outcomeFileName } from '../../src/batch/fileNames.ts';
import { enteFolder } from '../../src/batch/dropFolder/forEnte.ts';
import { OUTCOME_CSV_HEADER } from '../../src/batch/formats/outcome.ts';
import {
  closeSite,
  describeRun,
  openSqliteSite,
  parseOutcome,
  positionCounts,
  ppayCsvName,
  runImport,
  storedOptions,
  type ImportSite,
} from '../support/importProcess.ts';
import {
  connectAs,
  downloadOut,
  listRemote,
  startSshdOrSkip,
  uploadWithSidecar,
  type Sshd,
} from '../support/sshd.ts';

const HEADER =
  'action;position_id;service_code;description;debtor_type;debtor_fiscal_code;debtor_name;' +
  'debtor_first_name;installment_no;installment_label;due_date;amount_cents';

/** Four positions (one a two-installment plan), then a zero amount and an unknown service. */
const ROWS = [
  'I;SFTP-0001;TARI;TARI 2024;F;RSSMRA80A01H501U;Rossi;Mario;0;;2024-12-31;12345',
  'I;SFTP-0002;TARI;TARI 2024 a rate;G;12345678903;ACME S.r.l.;;1;rata 1 di 2;2024-06-30;5000',
  'I;SFTP-0002;TARI;TARI 2024 a rate;G;12345678903;ACME S.r.l.;;2;rata 2 di 2;2024-09-30;5000',
  'I;SFTP-0003;TARI;TARI 2024;F;VRDLGU75C41L219T;Verdi;Luigia;0;;2024-12-31;990',
  'I;SFTP-0004;TARI;TARI 2024;F;RSSMRA80A01H501U;Rossi;Mario;0;;2024-12-31;0',
  'I;SFTP-0005;NOPE;Servizio ignoto;F;RSSMRA80A01H501U;Rossi;Mario;0;;2024-12-31;100',
];

describe('a gestionale exchanging files over SFTP with `ppay import` (real sshd and processes, SQLite)', function () {
  this.timeout(120_000);
  let sshd: Sshd | undefined;
  let site: ImportSite | undefined;
  let gestionale: SftpClient | undefined;

  before(async function () {
    sshd = await startSshdOrSkip(this);
    site = await openSqliteSite();
    gestionale = await connectAs(await sshd.addLogin(enteFolder(site.dataDir, site.enteFiscalCode)));
  });
  after(async () => {
    await gestionale?.end();
    await sshd?.stop();
    await closeSite(site);
  });

  it('takes the upload, and the gestionale downloads one outcome line per row over SFTP', async () => {
    const name = ppayCsvName(site!, 'SFTP-NIGHT');
    await uploadWithSidecar(gestionale!, name, `${HEADER}\n${ROWS.join('\n')}\n`);
    expect(await listRemote(gestionale!, 'in')).to.deep.equal([name, `${name}.sha256`]);

    const run = await runImport(site!);
    expect(run.code, describeRun(run)).to.equal(0);

    expect(await listRemote(gestionale!, 'in')).to.deep.equal([]);
    expect(await listRemote(gestionale!, 'out')).to.deep.equal([outcomeFileName(name)]);
    const outcome = await parseOutcome(await downloadOut(gestionale!, outcomeFileName(name)));
    expect(outcome.header).to.equal(OUTCOME_CSV_HEADER);
    const stored = await storedOptions(site!);
    const answered = outcome.rows.map((row) => {
      const option = stored.get(`${row.positionId}#${Number(row.installmentNo || 0)}`);
      const numbers = option ? row.iuv === option.iuv && row.noticeNumber === option.noticeNumber : false;
      return [row.rowNo, row.positionId, row.outcome, row.errorCode, numbers];
    });
    expect(answered).to.deep.equal([
      [2, 'SFTP-0001', 'OK', '', true],
      [3, 'SFTP-0002', 'OK', '', true],
      [4, 'SFTP-0002', 'OK', '', true],
      [5, 'SFTP-0003', 'OK', '', true],
      [6, 'SFTP-0004', 'KO', 'E_AMOUNT', false],
      [7, 'SFTP-0005', 'KO', 'E_SERVICE_UNKNOWN', false],
    ]);
    for (const row of outcome.rows.filter((r) => r.outcome === 'OK'))
      expect(row.noticeNumber).to.match(/^3\d{17}$/);
    expect((await listRemote(gestionale!, 'done')).filter((n) => n.endsWith(name))).to.have.length(1);
    const counts = await positionCounts(site!);
    expect([counts.positions, counts.options]).to.deep.equal([3, 4]);
  });
});
