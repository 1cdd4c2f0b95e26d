// `ppay user` as an operator runs it on a fresh install: real processes, a real SQLite file in a
// temporary data folder; the first admin it creates logs in to the portal of a started connector.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ppay, ppayEnv, startPpay, stopPpay } from '../support/ppayProcess.ts';
import { PortalClient } from '../support/portal.ts';

describe('ppay user (real processes, SQLite)', function () {
  this.timeout(60000);
  let dataDir: string;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ppay-cli-user-'));
  });
  afterEach(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('adds an admin with a generated password printed once, who logs in; disable ends that', async () => {
    // As on a production install: no demo data, so the CLI makes the first admin.
    const env = ppayEnv(dataDir, {
      PPAY_ENV: 'production',
      PPAY_SECRET: 'a-production-secret-0123456789abcdef',
      PPAY_NODE_URL: 'http://127.0.0.1:9/nodo',
    });
    const added = await ppay(['user', 'add', 'primo.admin', '--role', 'admin', '--name', 'Primo Admin'], env);
    expect(added.code, added.stderr).to.equal(0);
    const shown = JSON.parse(added.stdout);
    expect(shown).to.include({
      username: 'primo.admin',
      fullName: 'Primo Admin',
      role: 'admin',
      status: 'active',
    });
    expect(shown.password).to.be.a('string').with.length.of.at.least(20);
    expect(added.stderr).to.include('shown only now');

    const listed = await ppay(['user', 'list', '--json'], env);
    expect(listed.code, listed.stderr).to.equal(0);
    expect(JSON.parse(listed.stdout)).to.deep.equal([
      {
        username: 'primo.admin',
        fullName: 'Primo Admin',
        role: 'admin',
        ente: null,
        status: 'active',
        lastLoginAt: null,
      },
    ]);
    expect(listed.stdout).not.to.include(shown.password);

    const { child, url } = await startPpay(ppayEnv(dataDir));
    try {
      const portal = new PortalClient(url);
      await portal.login('primo.admin', shown.password);
      expect((await portal.get('/portal/admin')).status).to.equal(200);

      const disabled = await ppay(['user', 'disable', 'primo.admin'], env);
      expect(disabled.code, disabled.stderr).to.equal(0);
      expect(JSON.parse(disabled.stdout)).to.deep.equal({ username: 'primo.admin', status: 'disabled' });
      const after = await portal.get('/portal/admin');
      expect(after.status).to.equal(303);
      expect(after.location).to.match(/^\/portal\/login/);
    } finally {
      expect(await stopPpay(child)).to.equal(0);
    }
    const text = await ppay(['user', 'list'], env);
    expect(text.stdout).to.match(/primo\.admin\s+admin\s+-\s+disabled\s+Primo Admin/);
  });

  it('takes the password from PPAY_NEW_USER_PASSWORD and never prints it; refuses bad input', async () => {
    const env = ppayEnv(dataDir);
    const demo = JSON.parse((await ppay(['seed', '--demo', '--json'], env)).stdout);
    const cf = demo.enti[0].fiscalCode;
    const password = 'scelta-dall-operatore';
    const added = await ppay(['user', 'add', 'op.comune', '--role', 'operator', '--ente', cf], {
      ...env,
      PPAY_NEW_USER_PASSWORD: password,
    });
    expect(added.code, added.stderr).to.equal(0);
    expect(JSON.parse(added.stdout)).to.deep.equal({
      username: 'op.comune',
      fullName: 'op.comune',
      role: 'operator',
      ente: cf,
      status: 'active',
    });
    expect(added.stdout + added.stderr).not.to.include(password);

    const noEnte = await ppay(['user', 'add', 'op.due', '--role', 'operator'], env);
    expect(noEnte.code).to.equal(1);
    expect(noEnte.stderr).to.include('--ente');
    const badRole = await ppay(['user', 'add', 'op.tre', '--role', 'root'], env);
    expect(badRole.code).to.equal(1);
    const duplicate = await ppay(['user', 'add', 'op.comune', '--role', 'operator', '--ente', cf], env);
    expect(duplicate.code).to.equal(1);
    expect(duplicate.stderr).to.include('error DUPLICATE');
    const shortPassword = await ppay(['user', 'add', 'op.quattro', '--role', 'admin'], {
      ...env,
      PPAY_NEW_USER_PASSWORD: 'corta',
    });
    expect(shortPassword.code).to.equal(1);
    expect(shortPassword.stderr).to.include('error INVALID_INPUT');
    const unknown = await ppay(['user', 'disable', 'nessuno'], env);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.include('no portal user nessuno');

    const users = JSON.parse((await ppay(['user', 'list', '--json'], env)).stdout) as Array<{
      username: string;
    }>;
    expect(users.map((u) => u.username))
      .to.include('op.comune')
      .and.not.include('op.quattro');
  });
});
