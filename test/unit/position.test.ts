import { expect } from 'chai';
import { validateDebtPosition, parseIsoDate, type DebtPositionDraft } from '../../src/domain/position.ts';
import { isDomainError } from '../../src/domain/errors.ts';

const ENTE = '01234567897';
const OTHER_ENTE = '98765432103';
const IBAN = 'IT92F0306901000100000046001';
const POSTAL_IBAN = 'IT48F0760101000000012345678';

function draft(overrides: Partial<DebtPositionDraft> = {}): DebtPositionDraft {
  return {
    positionId: 'TARI-2026-0001',
    description: 'TARI 2026 acconto',
    debtor: {
      type: 'F',
      fiscalCode: 'RSSMRA85T10A562S',
      fullName: 'Mario Rossi',
      email: 'mario@example.org',
    },
    options: [
      {
        installment: 0,
        amountCents: 12030,
        dueDate: '2026-12-31',
        transfers: [{ amountCents: 12030, iban: IBAN, category: '9/0101101IM/' }],
      },
    ],
    ...overrides,
  };
}

function errorOf(fn: () => unknown): { code: string; field: unknown } | undefined {
  try {
    fn();
  } catch (err) {
    if (isDomainError(err)) return { code: err.code, field: err.details.field };
    throw err;
  }
  return undefined;
}

describe('debt position validation', () => {
  it('accepts a single payment and fills defaults from the position', () => {
    const p = validateDebtPosition(draft(), { enteFiscalCode: ENTE });
    expect(p.options).to.have.length(1);
    const [option] = p.options;
    expect(option?.amountCents).to.equal(12030);
    expect(option?.description).to.equal('TARI 2026 acconto');
    expect(option?.transfers[0]).to.include({ index: 1, enteFiscalCode: ENTE, postal: false });
    expect(option?.transfers[0]?.remittanceInformation).to.equal('TARI 2026 acconto');
    expect(p.debtor?.fiscalCode).to.equal('RSSMRA85T10A562S');
  });

  it('accepts an installment plan beside the single payment', () => {
    const single = draft().options[0]!;
    const installment = (n: number, cents: number) => ({
      installment: n,
      amountCents: cents,
      dueDate: `2026-0${n}-28`,
      transfers: [{ amountCents: cents, iban: IBAN, category: '9/0101101IM/' }],
    });
    const p = validateDebtPosition(draft({ options: [single, installment(1, 6015), installment(2, 6015)] }), {
      enteFiscalCode: ENTE,
    });
    expect(p.options.map((o) => o.installment)).to.deep.equal([0, 1, 2]);
  });

  it('accepts two beneficiaries and recognises a postal account', () => {
    const p = validateDebtPosition(
      draft({
        options: [
          {
            installment: 0,
            amountCents: 10000,
            dueDate: '2026-12-31',
            transfers: [
              { amountCents: 7000, iban: IBAN, category: '9/0101101IM/' },
              { enteFiscalCode: OTHER_ENTE, amountCents: 3000, iban: POSTAL_IBAN, category: '9/0201102IM/' },
            ],
          },
        ],
      }),
      { enteFiscalCode: ENTE },
    );
    const transfers = p.options[0]!.transfers;
    expect(transfers.map((t) => t.enteFiscalCode)).to.deep.equal([ENTE, OTHER_ENTE]);
    expect(transfers.map((t) => t.postal)).to.deep.equal([false, true]);
  });

  it('refuses transfers that do not add up to the option amount', () => {
    const d = draft();
    d.options[0]!.transfers[0]!.amountCents = 12000;
    expect(errorOf(() => validateDebtPosition(d, { enteFiscalCode: ENTE }))).to.deep.equal({
      code: 'INVALID_TRANSFER',
      field: 'options[0].transfers',
    });
  });

  it('refuses more than five transfers', () => {
    const d = draft();
    const option = d.options[0]!;
    option.amountCents = 600;
    option.transfers = Array.from({ length: 6 }, (_, i) => ({
      enteFiscalCode: i === 0 ? ENTE : OTHER_ENTE,
      amountCents: 100,
      iban: i % 2 ? POSTAL_IBAN : IBAN,
      category: `9/010110${i}IM/`,
    }));
    expect(errorOf(() => validateDebtPosition(d, { enteFiscalCode: ENTE }))?.code).to.equal(
      'INVALID_TRANSFER',
    );
  });

  it('refuses a first transfer that credits another ente', () => {
    const d = draft();
    d.options[0]!.transfers[0]!.enteFiscalCode = OTHER_ENTE;
    expect(errorOf(() => validateDebtPosition(d, { enteFiscalCode: ENTE }))?.code).to.equal(
      'INVALID_TRANSFER',
    );
  });

  it('refuses zero, fractional and over-limit amounts with INVALID_AMOUNT', () => {
    for (const bad of [0, 12.5, 100_000_000_000]) {
      const d = draft();
      d.options[0]!.amountCents = bad;
      d.options[0]!.transfers[0]!.amountCents = bad;
      expect(errorOf(() => validateDebtPosition(d, { enteFiscalCode: ENTE }))?.code, String(bad)).to.equal(
        'INVALID_AMOUNT',
      );
    }
  });

  it('refuses a bad IBAN, a bad fiscal code and a bad category with their own codes', () => {
    const badIban = draft();
    badIban.options[0]!.transfers[0]!.iban = 'IT61X0542811101000000123456';
    expect(errorOf(() => validateDebtPosition(badIban, { enteFiscalCode: ENTE }))?.code).to.equal(
      'INVALID_IBAN',
    );

    const badDebtor = draft({
      debtor: { type: 'F', fiscalCode: 'RSSMRA85T10A562X', fullName: 'Mario Rossi' },
    });
    expect(errorOf(() => validateDebtPosition(badDebtor, { enteFiscalCode: ENTE }))?.code).to.equal(
      'INVALID_FISCAL_CODE',
    );

    const badCategory = draft();
    badCategory.options[0]!.transfers[0]!.category = 'TARI';
    expect(errorOf(() => validateDebtPosition(badCategory, { enteFiscalCode: ENTE }))).to.deep.equal({
      code: 'INVALID_TRANSFER',
      field: 'options[0].transfers[0].category',
    });
  });

  it('requires a debtor unless the caller says it is optional (inactive multe notice)', () => {
    const d = draft({ debtor: undefined });
    expect(errorOf(() => validateDebtPosition(d, { enteFiscalCode: ENTE }))).to.deep.equal({
      code: 'INVALID_POSITION',
      field: 'debtor',
    });
    expect(validateDebtPosition(d, { enteFiscalCode: ENTE, debtorOptional: true }).debtor).to.equal(null);
  });

  it('accepts the anonymous debtor pagoPA allows', () => {
    const p = validateDebtPosition(
      draft({ debtor: { type: 'F', fiscalCode: 'anonimo', fullName: 'Proprietario veicolo' } }),
      {
        enteFiscalCode: ENTE,
      },
    );
    expect(p.debtor?.fiscalCode).to.equal('ANONIMO');
  });

  it('refuses installment numbers with gaps, duplicates or a lone installment', () => {
    const option = (n: number) => ({ ...draft().options[0]!, installment: n });
    for (const numbers of [[1, 3], [0, 0], [1]]) {
      const d = draft({ options: numbers.map(option) });
      expect(
        errorOf(() => validateDebtPosition(d, { enteFiscalCode: ENTE })),
        numbers.join(','),
      ).to.deep.equal({
        code: 'INVALID_POSITION',
        field: 'options',
      });
    }
  });

  it('refuses bad position ids, empty descriptions and control characters', () => {
    expect(
      errorOf(() => validateDebtPosition(draft({ positionId: '' }), { enteFiscalCode: ENTE }))?.field,
    ).to.equal('positionId');
    expect(
      errorOf(() => validateDebtPosition(draft({ positionId: 'a b' }), { enteFiscalCode: ENTE }))?.field,
    ).to.equal('positionId');
    expect(
      errorOf(() => validateDebtPosition(draft({ description: '   ' }), { enteFiscalCode: ENTE }))?.field,
    ).to.equal('description');
    expect(
      errorOf(() => validateDebtPosition(draft({ description: 'TARI\u0000' }), { enteFiscalCode: ENTE }))
        ?.field,
    ).to.equal('description');
    expect(
      errorOf(() => validateDebtPosition(draft({ description: 'x'.repeat(141) }), { enteFiscalCode: ENTE }))
        ?.field,
    ).to.equal('description');
  });

  it('refuses impossible dates with INVALID_DATE', () => {
    for (const bad of ['2026-02-30', '2026-13-01', '31/12/2026', '2026-1-1']) {
      expect(errorOf(() => parseIsoDate(bad))?.code, bad).to.equal('INVALID_DATE');
    }
    expect(parseIsoDate('2028-02-29')).to.equal('2028-02-29');
  });

  it('refuses an ente fiscal code that is not 11 digits', () => {
    expect(
      errorOf(() => validateDebtPosition(draft(), { enteFiscalCode: 'RSSMRA85T10A562S' }))?.code,
    ).to.equal('INVALID_FISCAL_CODE');
  });
});
