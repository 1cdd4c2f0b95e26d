// The pure parts of the importer: how a file record becomes the upload item the gestionale path
// applies (defaults from the service configuration, partial updates merged onto the stored
// position), the field a legacy outcome line is about, and when an import's holder counts as gone.

import { expect } from 'chai';
import { hostname } from 'node:os';
import { isDomainError } from '../../../src/domain/errors.ts';
import type { Ente } from '../../../src/db/repositories/enti.ts';
import type { Service } from '../../../src/db/repositories/services.ts';
import type { StoredPosition } from '../../../src/db/repositories/positions.ts';
import type { PatchRecord, PositionRecord } from '../../../src/batch/formats/types.ts';
import {
  cutText,
  itemOfCancel,
  itemOfPatch,
  itemOfPosition,
  ORIGINAL_DEBTOR_FIELD,
} from '../../../src/batch/importer/records.ts';
import { fieldOfMessage } from '../../../src/batch/importer/legacyOutcomes.ts';
import { isAbandoned, newImporterOwner, ownerProcessMayLive } from '../../../src/batch/importer/owner.ts';

const ENTE = { id: 1, fiscalCode: '01234567897', iban: 'IT60X0542811101000000123456' } as Ente;
const SERVICE = {
  id: 7,
  code: 'TARI',
  category: '9/0101108TS/',
  iban: 'IT92F0306901000100000046001',
  status: 'active',
} as Service;
const SCOPE = { ente: ENTE, service: SERVICE };

function insert(changes: Partial<PositionRecord['position']> = {}): PositionRecord {
  return {
    action: 'INSERT',
    positionId: 'P-1',
    lines: [2],
    serviceCode: 'TARI',
    warnings: [],
    position: {
      description: 'TARI 2024',
      debtor: { type: 'F', fiscalCode: 'RSSMRA80A01H501U', fullName: 'Mario Rossi' },
      options: [{ installment: 0, line: 2, amountCents: 1000, dueDate: '2024-04-30', transfers: [] }],
      metadata: [{ key: 'rif.Targa', value: 'BB111BB' }],
      ...changes,
    },
  };
}

/** A stored single-payment position, as positions.findByPositionId gives it. */
function storedPosition(changes: Record<string, unknown> = {}): StoredPosition {
  return {
    positionId: 'AGPD-1',
    status: 'VALID',
    description: 'TARI 2024',
    validityDate: null,
    debtor: {
      type: 'F',
      fiscalCode: 'RSSMRA80A01H501U',
      fullName: 'Mario Rossi',
      email: null,
      streetName: null,
      civicNumber: null,
      postalCode: null,
      city: 'Torino',
      stateProvinceRegion: null,
      country: null,
    },
    options: [
      {
        installment: 0,
        iuv: '01000000000000017',
        amountCents: 1000,
        dueDate: '2024-04-30',
        description: 'TARI 2024',
        transfers: [
          {
            index: 1,
            enteFiscalCode: ENTE.fiscalCode,
            amountCents: 1000,
            iban: SERVICE.iban,
            category: SERVICE.category,
            remittanceInformation: 'TARI 2024',
          },
        ],
      },
    ],
    ...changes,
  } as unknown as StoredPosition;
}

function patchOf(patch: PatchRecord['patch']): PatchRecord {
  return { action: 'UPDATE', positionId: 'AGPD-1', lines: [2], warnings: [], patch };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('importer: file records as upload items', () => {
  it('builds one transfer of the whole amount from the service when the file gives none', () => {
    const item = itemOfPosition(insert(), SCOPE);
    expect(item.action).to.equal('INSERT');
    expect(item.position?.draft.options[0]?.transfers).to.deep.equal([
      {
        enteFiscalCode: undefined,
        amountCents: 1000,
        iban: SERVICE.iban,
        category: SERVICE.category,
        remittanceInformation: undefined,
      },
    ]);
    expect(item.position?.iuvs).to.deep.equal([null]);
    expect(item.position?.metadata).to.deep.equal([{ key: 'rif.Targa', value: 'BB111BB' }]);
  });

  it('fills a transfer without IBAN from the service, else the ente, and keeps what the file gives', () => {
    const options = [
      {
        installment: 0,
        line: 2,
        amountCents: 1000,
        dueDate: '2024-04-30',
        iuv: '01000000000012345',
        transfers: [
          { amountCents: 700 },
          {
            amountCents: 300,
            enteFiscalCode: '98765432103',
            iban: 'IT60X0542811101000000123456',
            category: '9/0301109AP/',
          },
        ],
      },
    ];
    const withService = itemOfPosition(insert({ options }), SCOPE);
    expect(withService.position?.draft.options[0]?.transfers.map((t) => [t.iban, t.category])).to.deep.equal([
      [SERVICE.iban, SERVICE.category],
      ['IT60X0542811101000000123456', '9/0301109AP/'],
    ]);
    expect(withService.position?.iuvs).to.deep.equal(['01000000000012345']);
    const withEnte = itemOfPosition(insert({ options }), { ente: ENTE, service: { ...SERVICE, iban: null } });
    expect(withEnte.position?.draft.options[0]?.transfers[0]?.iban).to.equal(ENTE.iban);
  });

  it('refuses a transfer to another ente that gives no IBAN (the secondary ente is not configured)', () => {
    const options = [
      {
        installment: 0,
        line: 2,
        amountCents: 1000,
        dueDate: '2024-04-30',
        transfers: [{ amountCents: 700 }, { amountCents: 300, enteFiscalCode: '98765432103' }],
      },
    ];
    let error: unknown;
    try {
      itemOfPosition(insert({ options }), SCOPE);
    } catch (err) {
      error = err;
    }
    expect(isDomainError(error, 'INVALID_TRANSFER')).to.equal(true);
    expect((error as { details: { field: string } }).details.field).to.equal('options[0].transfers[1].iban');
  });

  it('cuts descriptions to the 140 characters pagoPA carries, never inside a character', () => {
    const long = `${'a'.repeat(139)}😀tail`;
    expect(cutText(long)).to.equal('a'.repeat(139));
    expect(
      itemOfPosition(insert({ description: 'x'.repeat(300) }), SCOPE).position?.draft.description,
    ).to.have.length(140);
    expect(cutText('short')).to.equal('short');
  });

  it('turns a CANCEL record into a cancellation with its reason', () => {
    const item = itemOfCancel({
      action: 'CANCEL',
      positionId: 'P-9',
      lines: [4],
      warnings: [],
      reason: 'cessata',
    });
    expect(item).to.deep.equal({ action: 'CANCEL', cancellation: { positionId: 'P-9', reason: 'cessata' } });
  });

  it('merges a partial update onto the stored position: a new amount moves its single transfer', () => {
    const stored = storedPosition();
    const patch: PatchRecord = {
      action: 'UPDATE',
      positionId: 'AGPD-1',
      lines: [2],
      warnings: [],
      patch: { option: { amountCents: 2500, dueDate: '2024-06-30' } },
    };
    const item = itemOfPatch(patch, stored, [{ key: 'k', value: 'v' }], SCOPE);
    expect(item.action).to.equal('UPDATE');
    expect(item.position?.iuvs).to.deep.equal(['01000000000000017']);
    expect(item.position?.metadata).to.deep.equal([{ key: 'k', value: 'v' }]);
    expect(item.position?.draft.debtor?.city).to.equal('Torino');
    const option = item.position?.draft.options[0];
    expect([option?.amountCents, option?.dueDate, option?.transfers.map((t) => t.amountCents)]).to.deep.equal(
      [2500, '2024-06-30', [2500]],
    );
  });

  it('sets the debtor of an anonymous position, refuses another debtor on an identified one (218)', () => {
    const debtor = { type: 'F' as const, fiscalCode: 'BNCLCU90M41F205Q', fullName: 'Lucia Bianchi' };
    const anonymous = storedPosition({
      debtor: { ...storedPosition().debtor, fiscalCode: 'ANONIMO', fullName: 'ANONIMO' },
    });
    expect(itemOfPatch(patchOf({ debtor }), anonymous, [], SCOPE).position?.draft.debtor).to.deep.equal(
      debtor,
    );
    const error = thrown(() => itemOfPatch(patchOf({ debtor }), storedPosition(), [], SCOPE));
    expect(isDomainError(error, 'INVALID_POSITION')).to.equal(true);
    expect((error as { details: { field: string } }).details.field).to.equal(ORIGINAL_DEBTOR_FIELD);
    // The same debtor again (a retry, or a new address) changes nobody.
    const sameDebtor = { ...debtor, fiscalCode: 'RSSMRA80A01H501U', fullName: 'Mario Rossi', city: 'Asti' };
    expect(
      itemOfPatch(patchOf({ debtor: sameDebtor }), storedPosition(), [], SCOPE).position?.draft.debtor?.city,
    ).to.equal('Asti');
  });

  it('replaces the stored riferimenti pagamento with the ones given and keeps other metadata', () => {
    const stored = [
      { key: 'rif.Targa', value: 'BB111BB' },
      { key: 'rif.Verbale', value: '234' },
      { key: 'note', value: 'x' },
    ];
    const item = itemOfPatch(
      patchOf({ metadata: [{ key: 'rif.Targa', value: 'CC222CC' }] }),
      storedPosition(),
      stored,
      SCOPE,
    );
    expect(item.position?.metadata).to.deep.equal([
      { key: 'note', value: 'x' },
      { key: 'rif.Targa', value: 'CC222CC' },
    ]);
  });

  it('refuses to patch a cancelled position, and the amounts of a plan of installments', () => {
    const cancelled = thrown(() =>
      itemOfPatch(patchOf({ description: 'x' }), storedPosition({ status: 'CANCELLED' }), [], SCOPE),
    );
    expect(isDomainError(cancelled, 'INVALID_STATE_TRANSITION')).to.equal(true);
    expect((cancelled as { details: { from: string } }).details.from).to.equal('CANCELLED');
    const plan = storedPosition({
      options: [1, 2].map((installment) => ({ ...storedPosition().options[0], installment })),
    });
    expect(
      isDomainError(
        thrown(() => itemOfPatch(patchOf({ option: { amountCents: 5 } }), plan, [], SCOPE)),
        'INVALID_INPUT',
      ),
    ).to.equal(true);
    // A plan's description may still be patched.
    expect(
      itemOfPatch(patchOf({ description: 'Nuova' }), plan, [], SCOPE).position?.draft.options,
    ).to.have.length(2);
  });
});

describe('importer: legacy outcome lines', () => {
  it('finds the field a row error names first in its message, the longest name winning', () => {
    const fields = ['Nome soggetto debitore', 'Cognome soggetto debitore', 'Motivazione'].sort(
      (a, b) => b.length - a.length,
    );
    expect(fieldOfMessage('Cognome soggetto debitore: is required', fields)).to.equal(
      'Cognome soggetto debitore',
    );
    expect(fieldOfMessage('Nome soggetto debitore: is required', fields)).to.equal('Nome soggetto debitore');
    expect(fieldOfMessage('no position X (Motivazione: …)', fields)).to.equal(undefined);
    expect(fieldOfMessage(undefined, fields)).to.equal(undefined);
  });
});

describe('importer: who holds an import', () => {
  const now = new Date('2024-02-01T02:00:00.000Z');

  it('names owners by host and process, and knows its own process alive', () => {
    const owner = newImporterOwner();
    expect(owner.startsWith(`${hostname()}:${process.pid}:`)).to.equal(true);
    expect(ownerProcessMayLive(owner)).to.equal(true);
  });

  it('takes an import over when its heartbeat is older than the lease', () => {
    const owner = `${hostname()}:${process.pid}:aaaa`;
    expect(isAbandoned({ owner, heartbeatAt: '2024-02-01T01:59:30.000Z' }, now, 60_000)).to.equal(false);
    expect(isAbandoned({ owner, heartbeatAt: '2024-02-01T01:58:59.000Z' }, now, 60_000)).to.equal(true);
  });

  it('takes it over at once when its owner was a process of this host that is gone', () => {
    // PID 2^22+1 is above Linux's pid_max limit: no such process.
    const gone = `${hostname()}:4194305:bbbb`;
    expect(ownerProcessMayLive(gone)).to.equal(false);
    expect(isAbandoned({ owner: gone, heartbeatAt: now.toISOString() }, now, 60_000)).to.equal(true);
    // Another host's processes cannot be checked: only the lease decides.
    expect(
      isAbandoned({ owner: 'elsewhere:4194305:cccc', heartbeatAt: now.toISOString() }, now, 60_000),
    ).to.equal(false);
  });
});
