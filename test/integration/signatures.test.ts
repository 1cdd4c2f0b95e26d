// Signed inbound files end to end (issue 10 item 7): XML debt-position files dropped into an
// ente's folder and imported with a pinned certificate (PPAY_IMPORT_TRUSTED_CERT →
// ImporterOptions.trustedCertificatePem), on the suite's database. What it proves: only a file
// whose one enveloped RSA-SHA256 / SHA-256 signature covers the whole document and verifies against
// the pinned certificate is imported, and then only its signed content is read; every forgery is
// REJECTED with its typed file error (F_SIGNATURE, or F_FORMAT for a document that is not even
// well-formed / safe XML), is moved to rejected/, and no position of it reaches the database.
//
// The primitives (src/xml/signing.ts) have their own unit tests in test/unit/xml/signing.test.ts
// (tampering, foreign keys, partial references, wrapping, DOCTYPE, two signatures, RSA-SHA1) and the
// signed reconciliation exports theirs in test/unit/reconciliation/report.test.ts and
// test/integration/reconciliationExport.test.ts; this suite adds the attacks as files through the
// real importer, the SHA-1 digest case (a defect it found: the reference digest algorithm was not
// checked) and the Id-duplication / second-root cases.

import fs from 'node:fs';
import { mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { SignedXml } from 'xml-crypto';
import { forEachDatabase, seedEnte, type SeededEnte } from '../support/db.ts';
import { expectDomainError } from '../support/expectDomainError.ts';
import { enteFolder } from '../../src/batch/dropFolder/forEnte.ts';
import { LocalDropFolder } from '../../src/batch/dropFolder/local.ts';
import { Importer } from '../../src/batch/importer/importer.ts';
import { PROJECT_ROOT } from '../../src/xml/paths.ts';
import { signEnveloped, verifyEnveloped, type SigningKey } from '../../src/xml/signing.ts';

const KEYS = path.join(PROJECT_ROOT, 'fixtures/keys');
const read = (file: string) => fs.readFileSync(path.join(KEYS, file), 'utf8');
const SIGNER: SigningKey = {
  privateKeyPem: read('export-signer.key.pem'),
  certificatePem: read('export-signer.cert.pem'),
};
const UNRELATED: SigningKey = {
  privateKeyPem: read('unrelated.key.pem'),
  certificatePem: read('unrelated.cert.pem'),
};

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

const AMOUNT = 18_900;
const FORGED_AMOUNT = 1;

function item(positionId: string, amountCents: number): string {
  return (
    `<item><action>INSERT</action><position><positionId>${positionId}</positionId>` +
    `<description>TARI ${positionId}</description>` +
    `<debtor><type>F</type><fiscalCode>RSSMRA80A01H501U</fiscalCode><fullName>Mario Rossi</fullName></debtor>` +
    `<option><installment>0</installment><amountCents>${amountCents}</amountCents><dueDate>2031-04-30</dueDate>` +
    `<transfer><amountCents>${amountCents}</amountCents><iban>IT92F0306901000100000046001</iban>` +
    `<category>9/0101108TS/</category></transfer></option></position></item>`
  );
}

/** A one-item debtPositionsFile of `ente` (control totals filled in). */
function fileXml(ente: string, flowId: string, positionId: string, amountCents = AMOUNT): string {
  return (
    `${DECLARATION}<fl:debtPositionsFile xmlns:fl="http://ppay-connector.it/flows/v1"><header>` +
    `<enteFiscalCode>${ente}</enteFiscalCode><serviceCode>TARI</serviceCode><flowId>${flowId}</flowId>` +
    `<creationDateTime>2024-02-01T23:55:00+01:00</creationDateTime><itemCount>1</itemCount>` +
    `<totalAmountCents>${amountCents}</totalAmountCents></header>${item(positionId, amountCents)}` +
    `</fl:debtPositionsFile>`
  );
}

/** Signs with xml-crypto directly, for signatures our signer would never make. */
function signWith(
  xml: string,
  opts: { xpath?: string; wholeDocument?: boolean; digest?: string; algorithm?: string } = {},
): string {
  const signer = new SignedXml({
    privateKey: SIGNER.privateKeyPem,
    publicCert: SIGNER.certificatePem,
    signatureAlgorithm: opts.algorithm ?? RSA_SHA256,
    canonicalizationAlgorithm: EXC_C14N,
  });
  const whole = opts.wholeDocument ?? true;
  signer.addReference({
    xpath: opts.xpath ?? '/*',
    transforms: [ENVELOPED, EXC_C14N],
    digestAlgorithm: opts.digest ?? SHA256,
    ...(whole ? { isEmptyUri: true } : {}),
  });
  signer.computeSignature(xml, { prefix: 'ds', location: { reference: '/*', action: 'append' } });
  return signer.getSignedXml();
}

const signatureOf = (xml: string) => /<ds:Signature[ >].*<\/ds:Signature>/s.exec(xml)![0];

interface SignedCase {
  /** The flowId in the file name and header. */
  flow: string;
  title: string;
  /** The file as dropped; `ente` is the drop folder's fiscal code, `pid` a positionId for it. */
  build: (ente: string, pid: (suffix: string) => string) => string;
  outcome: 'DONE' | 'REJECTED';
  /** REJECTED: the typed file error. */
  errorCode?: 'F_SIGNATURE' | 'F_FORMAT';
  /** DONE: the positions it must have stored, with their amount. */
  stored?: (pid: (suffix: string) => string) => Array<[string, number]>;
}

const CASES: SignedCase[] = [
  {
    flow: 'VALID',
    title: 'signed by the pinned certificate → DONE, the position stored as signed',
    build: (ente, pid) => signEnveloped(fileXml(ente, 'VALID', pid('VALID')), SIGNER),
    outcome: 'DONE',
    stored: (pid) => [[pid('VALID'), AMOUNT]],
  },
  {
    flow: 'DIRECT',
    title: 'the same whole-document signature made by xml-crypto directly → DONE (standard format)',
    build: (ente, pid) => signWith(fileXml(ente, 'DIRECT', pid('DIRECT'))),
    outcome: 'DONE',
    stored: (pid) => [[pid('DIRECT'), AMOUNT]],
  },
  {
    flow: 'COMMENT',
    title: 'a comment slipped into a signed file (outside the digest) → DONE with the signed content only',
    build: (ente, pid) =>
      signEnveloped(fileXml(ente, 'COMMENT', pid('COMMENT')), SIGNER).replace(
        '</header>',
        `</header><!--${item(pid('COMMENT-FORGED'), FORGED_AMOUNT)}-->`,
      ),
    outcome: 'DONE',
    stored: (pid) => [[pid('COMMENT'), AMOUNT]],
  },
  {
    flow: 'AMOUNT',
    title: 'one amount changed after signing (option, transfer and total) → F_SIGNATURE',
    build: (ente, pid) =>
      signEnveloped(fileXml(ente, 'AMOUNT', pid('AMOUNT')), SIGNER).replaceAll(
        `>${AMOUNT}<`,
        `>${FORGED_AMOUNT}<`,
      ),
    outcome: 'REJECTED',
    errorCode: 'F_SIGNATURE',
  },
  {
    flow: 'FOREIGN',
    title: 'signed by another key that carries its own certificate in KeyInfo → F_SIGNATURE',
    build: (ente, pid) => signEnveloped(fileXml(ente, 'FOREIGN', pid('FOREIGN')), UNRELATED),
    outcome: 'REJECTED',
    errorCode: 'F_SIGNATURE',
  },
  {
    flow: 'UNSIGNED',
    title: 'the signature removed (a signature is required) → F_SIGNATURE',
    build: (ente, pid) =>
      signEnveloped(fileXml(ente, 'UNSIGNED', pid('UNSIGNED')), SIGNER).replace(
        /<ds:Signature .*<\/ds:Signature>/s,
        '',
      ),
    outcome: 'REJECTED',
    errorCode: 'F_SIGNATURE',
  },
  {
    flow: 'SHA1DIGEST',
    title: 'a SHA-1 reference digest under an RSA-SHA256 signature by the pinned key → F_SIGNATURE',
    build: (ente, pid) => signWith(fileXml(ente, 'SHA1DIGEST', pid('SHA1DIGEST')), { digest: SHA1 }),
    outcome: 'REJECTED',
    errorCode: 'F_SIGNATURE',
  },
  {
    flow: 'RSASHA1',
    title: 'an RSA-SHA1 signature by the pinned key → F_SIGNATURE',
    build: (ente, pid) => signWith(fileXml(ente, 'RSASHA1', pid('RSASHA1')), { algorithm: RSA_SHA1 }),
    outcome: 'REJECTED',
    errorCode: 'F_SIGNATURE',
  },
  {
    flow: 'PARTIALREF',
    title: 'a valid signature whose reference is an Id (#…) covering one item only → F_SIGNATURE',
    build: (ente, pid) =>
      signWith(fileXml(ente, 'PARTIALREF', pid('PARTIALREF')), {
        xpath: "//*[local-name()='item']",
        wholeDocument: false,
      }),
    outcome: 'REJECTED',
    errorCode: 'F_SIGNATURE',
  },
  {
    flow: 'WRAPID',
    title:
      'classic wrapping: the Id-signed item hidden in ds:Object, a forged item with the same Id in its place → F_SIGNATURE',
    build: (ente, pid) => {
      const signed = signWith(fileXml(ente, 'WRAPID', pid('WRAPID')), {
        xpath: "//*[local-name()='item']",
        wholeDocument: false,
      });
      const original = /<item Id="[^"]+">.*<\/item>/s.exec(signed)![0];
      const forged = original.replaceAll(`>${AMOUNT}<`, `>${FORGED_AMOUNT}<`);
      return signed
        .replace(original, forged)
        .replace('</ds:Signature>', `<ds:Object>${original}</ds:Object></ds:Signature>`);
    },
    outcome: 'REJECTED',
    errorCode: 'F_SIGNATURE',
  },
  {
    flow: 'WRAPROOT',
    title: 'the signed file wrapped under an attacker root with a forged item → F_SIGNATURE',
    build: (ente, pid) => {
      const signed = signEnveloped(fileXml(ente, 'WRAPROOT', pid('WRAPROOT')), SIGNER);
      const forged = fileXml(ente, 'WRAPROOT', pid('WRAPROOT-FORGED'), FORGED_AMOUNT);
      return forged.replace(
        '</fl:debtPositionsFile>',
        `<extension>${signed.slice(DECLARATION.length)}</extension></fl:debtPositionsFile>`,
      );
    },
    outcome: 'REJECTED',
    errorCode: 'F_SIGNATURE',
  },
  {
    flow: 'SIGMOVED',
    title: 'the signature moved into a child element with a forged item next to it → F_SIGNATURE',
    build: (ente, pid) => {
      const signed = signEnveloped(fileXml(ente, 'SIGMOVED', pid('SIGMOVED')), SIGNER);
      const signature = signatureOf(signed);
      return signed
        .replace(signature, '')
        .replace('</header>', `</header>${item(pid('SIGMOVED-FORGED'), FORGED_AMOUNT)}`)
        .replace('<description>', `<description>${signature}`);
    },
    outcome: 'REJECTED',
    errorCode: 'F_SIGNATURE',
  },
  {
    flow: 'DUPITEM',
    title:
      'a second, unsigned copy of the item (duplicated element) appended before the signature → F_SIGNATURE',
    build: (ente, pid) =>
      signEnveloped(fileXml(ente, 'DUPITEM', pid('DUPITEM')), SIGNER).replace(
        '<ds:Signature ',
        `${item(pid('DUPITEM'), FORGED_AMOUNT)}<ds:Signature `,
      ),
    outcome: 'REJECTED',
    errorCode: 'F_SIGNATURE',
  },
  {
    flow: 'TWOSIG',
    title: 'two signatures (the pinned one and a foreign one over it) → F_SIGNATURE',
    build: (ente, pid) =>
      signEnveloped(signEnveloped(fileXml(ente, 'TWOSIG', pid('TWOSIG')), SIGNER), UNRELATED),
    outcome: 'REJECTED',
    errorCode: 'F_SIGNATURE',
  },
  {
    flow: 'SECONDROOT',
    title: 'a second, unsigned copy of the root element after the signed one → F_FORMAT (not well-formed)',
    build: (ente, pid) => {
      const signed = signEnveloped(fileXml(ente, 'SECONDROOT', pid('SECONDROOT')), SIGNER);
      return (
        signed +
        fileXml(ente, 'SECONDROOT', pid('SECONDROOT-FORGED'), FORGED_AMOUNT).slice(DECLARATION.length)
      );
    },
    outcome: 'REJECTED',
    errorCode: 'F_FORMAT',
  },
  {
    flow: 'DOCTYPE',
    title:
      'an internal DOCTYPE entity standing in for signed text → F_FORMAT before any signature processing',
    build: (ente, pid) =>
      signEnveloped(fileXml(ente, 'DOCTYPE', pid('DOCTYPE')), SIGNER)
        .replace(DECLARATION, `${DECLARATION}<!DOCTYPE fl:debtPositionsFile [<!ENTITY amt "${AMOUNT}">]>`)
        .replace(`<totalAmountCents>${AMOUNT}<`, '<totalAmountCents>&amt;<'),
    outcome: 'REJECTED',
    errorCode: 'F_FORMAT',
  },
];

forEachDatabase('signed XML files through the importer (PPAY_IMPORT_TRUSTED_CERT)', (ctx) => {
  let root: string;
  let dataDir: string;
  let seeded: SeededEnte;
  let report: Awaited<ReturnType<Importer['runPass']>>;
  const pid = (suffix: string) => `SIG-${suffix}`;
  const nameOf = (c: SignedCase) => `${seeded.ente.fiscalCode}_${c.flow}_20240201_ppay-1.xml`;

  before(async function () {
    this.timeout(60_000);
    root = await mkdtemp(path.join(os.tmpdir(), 'ppay-signatures-'));
    dataDir = path.join(root, 'data');
    seeded = await seedEnte(ctx.store);
    const folder = enteFolder(dataDir, seeded.ente.fiscalCode);
    await new LocalDropFolder({ root: folder }).ensureLayout();
    for (const c of CASES) {
      const aside = path.join(folder, 'in', `${nameOf(c)}.part`);
      await writeFile(aside, c.build(seeded.ente.fiscalCode, pid));
      await rename(aside, path.join(folder, 'in', nameOf(c)));
    }
    const importer = new Importer({
      store: ctx.store,
      dataDir,
      completion: { settleMs: 0 },
      batchRows: 50,
      trustedCertificatePem: SIGNER.certificatePem,
    });
    try {
      report = await importer.runPass({ enteFiscalCode: seeded.ente.fiscalCode });
    } finally {
      await importer.close();
    }
  });
  after(() => rm(root, { recursive: true, force: true }));

  it(`imported every one of the ${CASES.length} files once`, () => {
    expect(report.files.map((f) => f.fileName).sort()).to.deep.equal(CASES.map(nameOf).sort());
  });

  for (const c of CASES) {
    it(`${c.flow}: ${c.title}`, async () => {
      const file = report.files.find((f) => f.fileName === nameOf(c));
      expect(file, nameOf(c)).to.not.equal(undefined);
      expect([file!.outcome, file!.errorCode ?? null], JSON.stringify(file)).to.deep.equal([
        c.outcome,
        c.errorCode ?? null,
      ]);
      if (c.outcome === 'DONE') {
        expect([file!.ok, file!.ko]).to.deep.equal([1, 0]);
        for (const [positionId, amount] of c.stored!(pid)) {
          const stored = await ctx.store.positions.findByPositionId(seeded.ente.id, positionId);
          expect(stored?.status, positionId).to.equal('VALID');
          expect(stored?.options.map((o) => o.amountCents)).to.deep.equal([amount]);
        }
      } else {
        const rejected = await readdir(path.join(enteFolder(dataDir, seeded.ente.fiscalCode), 'rejected'));
        expect(
          rejected.some((n) => n.endsWith(nameOf(c))),
          rejected.join(', '),
        ).to.equal(true);
      }
    });
  }

  it('stored exactly the positions of the accepted files, none of a forged or rejected one', async () => {
    const positions = await ctx.store.positions.list(seeded.ente.id, { limit: 100 });
    const expected = CASES.flatMap((c) => (c.stored ? c.stored(pid).map(([id]) => id) : []));
    expect(positions.map((p) => p.positionId).sort()).to.deep.equal(expected.sort());
    for (const p of positions) {
      const full = await ctx.store.positions.findByPositionId(seeded.ente.id, p.positionId);
      expect(
        full?.options.map((o) => o.amountCents),
        p.positionId,
      ).to.deep.equal([AMOUNT]);
    }
  });
});

describe('verifyEnveloped: digest algorithm and Id duplication (unit, no database)', () => {
  const DOC = `${DECLARATION}<r xmlns="urn:test"><p Id="a"><amountCents>100</amountCents></p></r>`;

  it('rejects a SHA-1 or SHA-512 reference digest even with a valid RSA-SHA256 signature (SIGNATURE_INVALID)', () => {
    for (const digest of [SHA1, 'http://www.w3.org/2001/04/xmlenc#sha512']) {
      const signed = signWith(DOC, { digest });
      expect(signed).to.include(`<ds:DigestMethod Algorithm="${digest}"/>`);
      expectDomainError(() => verifyEnveloped(signed, SIGNER.certificatePem), 'SIGNATURE_INVALID');
    }
  });

  it('rejects a second DigestMethod slipped into the reference (SIGNATURE_INVALID)', () => {
    const signed = signWith(DOC).replace(
      `<ds:DigestMethod Algorithm="${SHA256}"/>`,
      `<ds:DigestMethod Algorithm="${SHA256}"/><ds:DigestMethod Algorithm="${SHA1}"/>`,
    );
    expectDomainError(() => verifyEnveloped(signed, SIGNER.certificatePem), 'SIGNATURE_INVALID');
  });

  it('rejects an Id reference when a forged element duplicates the Id before the signed one (SIGNATURE_INVALID)', () => {
    const signed = signWith(DOC, { xpath: "//*[@Id='a']", wholeDocument: false });
    const duplicated = signed.replace('<p Id="a">', '<p Id="a"><amountCents>1</amountCents></p><p Id="a">');
    expectDomainError(() => verifyEnveloped(duplicated, SIGNER.certificatePem), 'SIGNATURE_INVALID');
  });

  it('accepts the whole-document SHA-256 signature and returns the document without it', () => {
    expect(verifyEnveloped(signWith(DOC), SIGNER.certificatePem)).to.equal(DOC.slice(DECLARATION.length));
  });
});
