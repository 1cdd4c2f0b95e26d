// The portal's position form: euro amounts and dates as operators type them, blank blocks and
// defaults, the form's own errors per field, and the domain's item paths mapped back to fields.

import { expect } from 'chai';
import {
  fieldErrorOf,
  formFieldOf,
  generatePositionId,
  installmentBlocksToShow,
  parseEuroAmount,
  parseFormDate,
  parsePositionForm,
  readPositionForm,
  valuesFromPosition,
  type PositionFormValues,
} from '../../../src/app/portal/positionForm.ts';
import { itemField } from '../../../src/app/gestionale/uploadItems.ts';
import type { DomainError } from '../../../src/domain/errors.ts';
import { domainError, isDomainError } from '../../../src/domain/errors.ts';
import { validateDebtPosition } from '../../../src/domain/position.ts';
import type { StoredPosition } from '../../../src/db/repositories/positions.ts';
import { expectDomainError } from '../../support/expectDomainError.ts';

const ENTE = '01234567897';
const IBAN = 'IT60X0542811101000000123456';
const OTHER_IBAN = 'IT66X0760103200000012345678';
const OTHER_ENTE = '80016350821';
const DEFAULTS = { iban: IBAN, category: '9/0101108TS/' };

function single(extra: PositionFormValues = {}): PositionFormValues {
  return {
    description: 'TARI 2026',
    debtorType: 'F',
    debtorFiscalCode: 'RSSMRA85T10A562S',
    debtorFullName: 'Mario Rossi',
    plan: 'single',
    opt0_amount: '120,50',
    opt0_dueDate: '31/01/2027',
    ...extra,
  };
}

function parsed(values: PositionFormValues) {
  const result = parsePositionForm(values, { defaults: DEFAULTS });
  if (!result.ok) throw new Error(`unexpected form errors: ${JSON.stringify(result.errors)}`);
  return result.form;
}

/** The domain error applyItem would raise for the draft, with its item path. */
function domainErrorOf(values: PositionFormValues): DomainError {
  const form = parsed(values);
  try {
    validateDebtPosition(form.draft, { enteFiscalCode: ENTE });
  } catch (err) {
    if (!isDomainError(err)) throw err;
    return domainError(err.code, err.message, { ...err.details, field: itemField(err.details.field) });
  }
  throw new Error('the draft is valid');
}

describe('portal position form', () => {
  describe('parseEuroAmount', () => {
    it('reads euro typed with a comma, a dot, thousands separators or a euro sign', () => {
      expect(parseEuroAmount('120,50')).to.equal(12050);
      expect(parseEuroAmount('120.50')).to.equal(12050);
      expect(parseEuroAmount('1.234,56')).to.equal(123456);
      expect(parseEuroAmount('1.234')).to.equal(123400);
      expect(parseEuroAmount('€ 10')).to.equal(1000);
      expect(parseEuroAmount('0,5')).to.equal(50);
    });

    it('refuses more than two decimals, letters and negative amounts', () => {
      expectDomainError(() => parseEuroAmount('12,345'), 'INVALID_AMOUNT');
      expectDomainError(() => parseEuroAmount('dodici'), 'INVALID_AMOUNT');
      expectDomainError(() => parseEuroAmount('-5'), 'INVALID_AMOUNT');
    });
  });

  describe('parseFormDate', () => {
    it('takes the date input format and dd/mm/yyyy', () => {
      expect(parseFormDate('2027-01-31')).to.equal('2027-01-31');
      expect(parseFormDate('31/01/2027')).to.equal('2027-01-31');
      expect(parseFormDate('1/2/2027')).to.equal('2027-02-01');
    });

    it('refuses days that are not in the calendar', () => {
      expectDomainError(() => parseFormDate('31/02/2027'), 'INVALID_DATE');
      expectDomainError(() => parseFormDate('domani'), 'INVALID_DATE');
    });
  });

  it('generates position ids with the Italian day and 8 random characters', () => {
    const id = generatePositionId(new Date('2026-12-31T23:30:00Z'));
    expect(id).to.match(/^PORTALE-20270101-[A-Z0-9]{8}$/);
    expect(generatePositionId()).not.to.equal(generatePositionId());
  });

  it('keeps only the form fields of a body, trimmed, and drops blanks', () => {
    const values = readPositionForm({
      description: '  TARI  ',
      opt0_amount: '10',
      debtorEmail: '',
      isAdmin: 'true',
      opt0_tr2_iban: ['a', 'b'],
    });
    expect(values).to.deep.equal({ description: 'TARI', opt0_amount: '10' });
  });

  it('shows at least the filled installment blocks and at most 12', () => {
    expect(installmentBlocksToShow({}, '')).to.equal(3);
    expect(installmentBlocksToShow({}, '7')).to.equal(7);
    expect(installmentBlocksToShow({}, '99')).to.equal(12);
    expect(installmentBlocksToShow({ opt9_amount: '1' }, '4')).to.equal(9);
  });

  it('builds a single payment whose only beneficiary is the ente, with its defaults and the whole amount', () => {
    const form = parsed(single());
    expect(form.optionBlocks).to.deep.equal([0]);
    expect(form.draft.positionId).to.match(/^PORTALE-\d{8}-[A-Z0-9]{8}$/);
    const [option] = form.draft.options;
    expect(option).to.deep.include({ installment: 0, amountCents: 12050, dueDate: '2027-01-31' });
    expect(option?.transfers).to.deep.equal([
      { iban: IBAN, amountCents: 12050, category: '9/0101108TS/', remittanceInformation: undefined },
    ]);
    expect(() => validateDebtPosition(form.draft, { enteFiscalCode: ENTE })).not.to.throw();
  });

  it('gives the ente what the other beneficiaries do not take when its amount is blank', () => {
    const form = parsed(
      single({
        opt0_tr2_enteFiscalCode: OTHER_ENTE,
        opt0_tr2_iban: OTHER_IBAN,
        opt0_tr2_amount: '20',
        opt0_tr2_category: '9/0201111TS/',
      }),
    );
    const transfers = form.draft.options[0]?.transfers ?? [];
    expect(transfers.map((t) => t.amountCents)).to.deep.equal([10050, 2000]);
    expect(transfers[1]?.enteFiscalCode).to.equal(OTHER_ENTE);
    expect(() => validateDebtPosition(form.draft, { enteFiscalCode: ENTE })).not.to.throw();
  });

  it('ignores blank installment blocks and numbers the filled ones 1..n', () => {
    const form = parsed({
      ...single({ plan: 'installments' }),
      opt1_amount: '60',
      opt1_dueDate: '2027-01-31',
      opt3_amount: '60,50',
      opt3_dueDate: '2027-03-31',
    });
    expect(form.optionBlocks).to.deep.equal([1, 3]);
    expect(form.draft.options.map((o) => [o.installment, o.amountCents])).to.deep.equal([
      [1, 6000],
      [2, 6050],
    ]);
  });

  it('reports every mistake it can see at once, each on its field', () => {
    const result = parsePositionForm(
      single({
        debtorFiscalCode: 'RSSMRA85T10A562X',
        debtorFullName: '',
        opt0_amount: '12,345',
        opt0_dueDate: '',
        opt0_tr2_iban: 'IT00X',
      }),
      { defaults: DEFAULTS },
    );
    expect(result.ok).to.equal(false);
    const fields = result.ok ? [] : result.errors.map((e) => e.field);
    expect(fields).to.include.members([
      'debtorFiscalCode',
      'debtorFullName',
      'opt0_amount',
      'opt0_dueDate',
      'opt0_tr2_iban',
      'opt0_tr2_enteFiscalCode',
      'opt0_tr2_amount',
      'opt0_tr2_category',
    ]);
  });

  it('asks for two installments and for an IBAN when there is no default', () => {
    const plan = parsePositionForm(
      { ...single({ plan: 'installments' }), opt1_amount: '5', opt1_dueDate: '2027-01-01' },
      { defaults: DEFAULTS },
    );
    expect(plan.ok ? [] : plan.errors.map((e) => e.field)).to.include('plan');
    const noIban = parsePositionForm(single(), { defaults: { iban: null, category: '9/0101108TS/' } });
    expect(noIban.ok ? [] : noIban.errors.map((e) => e.field)).to.deep.equal(['opt0_tr1_iban']);
  });

  it('maps item paths of applyItem back to form fields', () => {
    expect(formFieldOf('position.option[1].transfer[1].iban', [1, 3])).to.equal('opt3_tr2_iban');
    expect(formFieldOf('position.option[0].transfer[0].amountCents', [0])).to.equal('opt0_tr1_amount');
    expect(formFieldOf('position.option[0].dueDate', [2])).to.equal('opt2_dueDate');
    expect(formFieldOf('position.option[0].transfers', [0])).to.equal('opt0_transfers');
    expect(formFieldOf('position.debtor.email', [0])).to.equal('debtorEmail');
    expect(formFieldOf('position.debtor.stateProvinceRegion', [0])).to.equal('debtorProvince');
    expect(formFieldOf('position.options', [0])).to.equal('plan');
    expect(formFieldOf('position.positionId', [0])).to.equal('positionId');
    expect(formFieldOf('position.option[5].amountCents', [0])).to.equal('');
    expect(formFieldOf('action', [0])).to.equal('');
  });

  it("puts the domain's refusal of the transfers' sum on the option, with both amounts", () => {
    const values = single({
      opt0_tr1_amount: '50',
      opt0_tr2_enteFiscalCode: OTHER_ENTE,
      opt0_tr2_iban: OTHER_IBAN,
      opt0_tr2_amount: '50',
      opt0_tr2_category: '9/0201111TS/',
    });
    const err = domainErrorOf(values);
    expect(err.code).to.equal('INVALID_TRANSFER');
    expect(formFieldOf('position.option[0].transfer', [0])).to.equal('opt0_transfers');
    const mapped = fieldErrorOf(err, parsed(values));
    expect(mapped?.field).to.equal('opt0_transfers');
    expect(mapped?.message).to.include('100,00').and.include('120,50');
  });

  it("puts the domain's refusal of an e-mail and of a category on their fields", () => {
    const email = domainErrorOf(single({ debtorEmail: 'not-an-address' }));
    expect(fieldErrorOf(email, parsed(single()))?.field).to.equal('debtorEmail');
    const category = domainErrorOf(single({ opt0_tr1_category: 'TARI' }));
    expect(fieldErrorOf(category, parsed(single()))?.field).to.equal('opt0_tr1_category');
  });

  it('fills the form from a stored position so that saving it again changes nothing', () => {
    const transfer = (index: number, amountCents: number, enteFiscalCode: string, iban: string) => ({
      id: index,
      index,
      enteFiscalCode,
      amountCents,
      iban,
      postal: false,
      category: '9/0101108TS/',
      remittanceInformation: 'Rata',
    });
    const stored: StoredPosition = {
      id: 7,
      enteId: 1,
      serviceId: 1,
      positionId: 'POS-1',
      status: 'VALID',
      description: 'TARI 2026',
      debtor: {
        type: 'F',
        fiscalCode: 'RSSMRA85T10A562S',
        fullName: 'Mario Rossi',
        email: 'mario@example.org',
        streetName: null,
        civicNumber: null,
        postalCode: null,
        city: 'Torino',
        stateProvinceRegion: 'TO',
        country: 'IT',
      },
      validityDate: null,
      version: 3,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      multe: null,
      options: [1, 2].map((installment) => ({
        id: installment,
        enteId: 1,
        installment,
        iuv: `0100000000000${installment}`,
        noticeNumber: null,
        amountCents: 6000,
        dueDate: `2027-0${installment}-28`,
        description: 'TARI 2026',
        status: 'UNPAID' as const,
        transfers: [transfer(1, 5000, ENTE, IBAN), transfer(2, 1000, OTHER_ENTE, OTHER_IBAN)],
      })),
    };
    const values = valuesFromPosition(stored);
    expect(values).to.include({ plan: 'installments', opt1_amount: '60,00', opt2_tr2_amount: '10,00' });
    const result = parsePositionForm(values, { defaults: DEFAULTS, positionId: stored.positionId });
    expect(result.ok).to.equal(true);
    const draft = result.ok ? result.form.draft : null;
    expect(draft?.positionId).to.equal('POS-1');
    const position = validateDebtPosition(draft!, { enteFiscalCode: ENTE });
    expect(position.debtor).to.deep.include({
      city: 'Torino',
      stateProvinceRegion: 'TO',
      email: 'mario@example.org',
    });
    expect(
      position.options.map((o) => [
        o.installment,
        o.amountCents,
        o.dueDate,
        o.transfers.map((t) => t.amountCents),
      ]),
    ).to.deep.equal([
      [1, 6000, '2027-01-28', [5000, 1000]],
      [2, 6000, '2027-02-28', [5000, 1000]],
    ]);
    expect(position.options[0]?.transfers[1]?.remittanceInformation).to.equal('Rata');
  });
});
