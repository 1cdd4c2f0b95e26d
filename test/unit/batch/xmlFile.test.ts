import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { readXmlFile, type XmlFileOptions } from '../../../src/batch/formats/xmlFile.ts';
import { PROJECT_ROOT } from '../../../src/xml/paths.ts';
import { signEnveloped } from '../../../src/xml/signing.ts';
import { chunked, plain, readAll, summary } from '../../support/batchFormats.ts';

const FILES = path.join(PROJECT_ROOT, 'fixtures/flows/debtPositionsFile');
const KEYS = path.join(PROJECT_ROOT, 'fixtures/keys');
const VALID = fs.readFileSync(path.join(FILES, 'valid-file.xml'), 'utf8');
const key = (file: string) => fs.readFileSync(path.join(KEYS, file), 'utf8');

async function fileError(input: string | Buffer, options: XmlFileOptions = {}) {
  try {
    await readXmlFile(input, options);
  } catch (err) {
    return err as { code: string; message: string };
  }
  return expect.fail('the file was accepted');
}

/** valid-file.xml with its items replaced. */
function withItems(items: string): string {
  return VALID.replace(/<itemCount>3<\/itemCount>\s*<totalAmountCents>40000<\/totalAmountCents>/, '').replace(
    /<item>[\s\S]*<\/item>/,
    items,
  );
}

const cancelItem = (id: string) =>
  `<item><action>CANCEL</action><cancellation><positionId>${id}</positionId></cancellation></item>`;

describe('XML debtPositionsFile reader', () => {
  it('reads the header and one record per item, items numbered from 1', async () => {
    const file = await readXmlFile(VALID);
    expect(plain(file.header)).to.deep.equal({
      format: 'ppay-xml-1',
      enteFiscalCode: '01234567897',
      serviceCode: 'TARI',
      flowId: 'TARI-2024-NIGHT-0042',
      creationDateTime: '2024-02-01T23:55:00+01:00',
      expectCount: 3,
      expectTotalCents: 40000,
    });
    const { items, fileError: error } = await readAll(file);
    expect(error).to.equal(null);
    expect(summary(items)).to.deep.equal([
      'R INSERT TARI-2024-001001 1',
      'R UPDATE TARI-2024-000123 2',
      'R CANCEL TARI-2023-000777 3',
    ]);
  });

  it('maps a position onto the CSV record model, the header service on every record', async () => {
    const { records } = await readAll(await readXmlFile(VALID));
    expect(plain(records[0])).to.deep.equal({
      action: 'INSERT',
      positionId: 'TARI-2024-001001',
      lines: [1],
      serviceCode: 'TARI',
      warnings: [],
      position: {
        description: 'TARI 2024 - utenza domestica corso Francia 10',
        debtor: {
          type: 'F',
          fiscalCode: 'RSSMRA80A01H501U',
          fullName: 'Mario Rossi',
          streetName: 'Corso Francia',
          civicNumber: '10',
          postalCode: '10138',
          city: 'Torino',
          stateProvinceRegion: 'TO',
          country: 'IT',
        },
        metadata: [],
        options: [
          {
            installment: 0,
            line: 1,
            dueDate: '2024-04-30',
            amountCents: 18900,
            transfers: [
              { amountCents: 18900, iban: 'IT92F0306901000100000046001', category: '9/0101108TS/' },
            ],
          },
        ],
      },
    });
    expect(plain(records[2])).to.deep.equal({
      action: 'CANCEL',
      positionId: 'TARI-2023-000777',
      lines: [3],
      serviceCode: 'TARI',
      warnings: [],
      reason: 'Utenza cessata',
    });
  });

  it('reads a stream, metadata, installments, IUVs and option descriptions', async () => {
    const item = `<item><action>INSERT</action><position><positionId>P-1</positionId><description>Plan</description>
      <metadata><entry><key>rif.Targa</key><value>AB123CD</value></entry></metadata>
      <option><installment>1</installment><iuv>01000000000012345</iuv><amountCents>500</amountCents><dueDate>2024-04-30</dueDate>
        <description>rata 1</description><transfer><enteFiscalCode>01234567897</enteFiscalCode><amountCents>500</amountCents>
        <iban>IT60X0542811101000000123456</iban><category>9/0101108TS/</category><remittanceInformation>r1</remittanceInformation></transfer></option>
      <option><installment>2</installment><amountCents>500</amountCents><dueDate>2024-05-31</dueDate>
        <transfer><amountCents>500</amountCents><iban>IT60X0542811101000000123456</iban><category>9/0101108TS/</category></transfer></option>
      </position></item>`;
    const { records } = await readAll(await readXmlFile(chunked(Buffer.from(withItems(item)), 100)));
    const position = (records[0] as { position: { metadata: unknown; options: unknown[] } }).position;
    expect(position.metadata).to.deep.equal([{ key: 'rif.Targa', value: 'AB123CD' }]);
    expect(plain(position.options)).to.deep.equal([
      {
        installment: 1,
        line: 1,
        label: 'rata 1',
        iuv: '01000000000012345',
        dueDate: '2024-04-30',
        amountCents: 500,
        transfers: [
          {
            amountCents: 500,
            enteFiscalCode: '01234567897',
            iban: 'IT60X0542811101000000123456',
            category: '9/0101108TS/',
            remittanceInformation: 'r1',
          },
        ],
      },
      {
        installment: 2,
        line: 1,
        dueDate: '2024-05-31',
        amountCents: 500,
        transfers: [{ amountCents: 500, iban: 'IT60X0542811101000000123456', category: '9/0101108TS/' }],
      },
    ]);
  });

  it('answers E_DUP_IN_FILE to a positionId repeated in a later item', async () => {
    const { items } = await readAll(
      await readXmlFile(withItems(cancelItem('A') + cancelItem('B') + cancelItem('A'))),
    );
    expect(summary(items)).to.deep.equal(['R CANCEL A 1', 'R CANCEL B 2', 'E 3 E_DUP_IN_FILE positionId']);
  });

  it('answers E_SYNTAX field action to an action that does not match the item content', async () => {
    const mismatched = cancelItem('A').replace('<action>CANCEL</action>', '<action>UPDATE</action>');
    const { items } = await readAll(await readXmlFile(withItems(mismatched + cancelItem('B'))));
    expect(summary(items)).to.deep.equal(['E 1 E_SYNTAX action', 'R CANCEL B 2']);
  });

  describe('file-level rejections, before any item', () => {
    it('rejects every invalid fixture with F_SCHEMA', async () => {
      const invalid = fs.readdirSync(FILES).filter((f) => f.startsWith('invalid-'));
      expect(invalid).to.have.length.above(3);
      for (const name of invalid) {
        const error = await fileError(fs.readFileSync(path.join(FILES, name)));
        expect(error.code, name).to.equal('F_SCHEMA');
      }
    });

    it('rejects another root of the same schema with F_SCHEMA', async () => {
      const outcome = fs.readFileSync(
        path.join(PROJECT_ROOT, 'fixtures/flows/debtPositionsOutcome/valid-outcome.xml'),
      );
      expect((await fileError(outcome)).code).to.equal('F_SCHEMA');
    });

    it('rejects a DOCTYPE and malformed XML with F_FORMAT', async () => {
      const doctype = VALID.replace(
        '<fl:debtPositionsFile',
        '<!DOCTYPE x [<!ENTITY e "boom">]><fl:debtPositionsFile',
      );
      expect((await fileError(doctype)).code).to.equal('F_FORMAT');
      expect((await fileError(VALID.slice(0, -30))).code).to.equal('F_FORMAT');
    });

    it('rejects a file above the size cap with F_TOO_LARGE, streamed or not', async () => {
      expect((await fileError(VALID, { maxBytes: 1000 })).code).to.equal('F_TOO_LARGE');
      try {
        await readXmlFile(chunked(Buffer.from(VALID), 64), { maxBytes: 1000 });
        expect.fail('accepted');
      } catch (err) {
        expect((err as { code: string }).code).to.equal('F_TOO_LARGE');
      }
    });

    it('rejects a file of another ente with F_ENTE', async () => {
      expect((await fileError(VALID, { enteFiscalCode: '98765432103' })).code).to.equal('F_ENTE');
      await readXmlFile(VALID, { enteFiscalCode: '01234567897' });
    });

    it('checks the control totals of the header: F_COUNT and F_TOTAL', async () => {
      expect((await fileError(VALID.replace('<itemCount>3<', '<itemCount>4<'))).code).to.equal('F_COUNT');
      const total = VALID.replace('<totalAmountCents>40000<', '<totalAmountCents>40001<');
      expect((await fileError(total)).code).to.equal('F_TOTAL');
    });
  });

  describe('signed files', () => {
    const signer = {
      privateKeyPem: key('export-signer.key.pem'),
      certificatePem: key('export-signer.cert.pem'),
    };

    it('reads a file signed by the pinned certificate', async () => {
      const signed = signEnveloped(VALID, signer);
      const file = await readXmlFile(signed, { trustedCertificatePem: signer.certificatePem });
      expect((await readAll(file)).records).to.have.length(3);
    });

    it('rejects with F_SIGNATURE a changed, unsigned or foreign-signed file when a certificate is pinned', async () => {
      const pinned = { trustedCertificatePem: signer.certificatePem };
      const signed = signEnveloped(VALID, signer);
      expect((await fileError(signed.replace('18900', '18000'), pinned)).code).to.equal('F_SIGNATURE');
      expect((await fileError(VALID, pinned)).code).to.equal('F_SIGNATURE');
      const foreign = signEnveloped(VALID, {
        privateKeyPem: key('unrelated.key.pem'),
        certificatePem: key('unrelated.cert.pem'),
      });
      expect((await fileError(foreign, pinned)).code).to.equal('F_SIGNATURE');
    });
  });
});
