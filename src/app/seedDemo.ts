// Demo data for development (DESIGN §10): a broker and station, two enti with segregation codes and
// services, a gestionale client, and open positions of every shape. Idempotent: what exists is kept,
// and the summary is read back from the database, so every run prints the same object.

import { formatAmount, parseAmountCents } from '../domain/money.ts';
import type { DebtPositionDraft, DebtorDraft, PaymentOptionDraft } from '../domain/position.ts';
import type { Store } from '../db/store.ts';
import type { Ente } from '../db/repositories/enti.ts';
import { INTEGRATION_MODELS } from '../db/repositories/clients.ts';
import type { StoredPosition } from '../db/repositories/positions.ts';
import { addClient } from './admin.ts';
import { createPosition } from './positions.ts';
import { createPortalUser } from './portal/auth.ts';
import { saveSpontaneousForm } from './portal/spontaneous.ts';

const ACTOR = 'seed-demo';
const BROKER = { fiscalCode: '12345678903', name: 'Intermediario demo ppay' };
const STATION = {
  stationId: `${BROKER.fiscalCode}_01`,
  password: 'DemoStation01',
  dialect: 'current' as const,
};
const CLIENT = { username: 'demo-gestionale', password: 'demo-gestionale-password', name: 'Gestionale demo' };

const IBAN_COMUNE = 'IT92F0306901000100000046001';
const IBAN_UNIONE = 'IT40M0200801000000100200300';
const POSTAL_IBAN_UNIONE = 'IT48F0760101000000012345678';

const ENTI = [
  { fiscalCode: '01234567897', name: 'Comune di Esempio', segregationCode: '01', iban: IBAN_COMUNE },
  { fiscalCode: '98765432103', name: 'Unione dei Comuni Demo', segregationCode: '02', iban: IBAN_UNIONE },
] as const;

interface DemoService {
  ente: string;
  code: string;
  description: string;
  category: string;
  iban: string;
  spontaneous: boolean;
  /** pagoPA idServizio of a spontaneous service (paDemandPaymentNotice). */
  pagopaServiceId?: string;
}

const SERVICES: DemoService[] = [
  {
    ente: ENTI[0].fiscalCode,
    code: 'TARI',
    description: 'Tassa rifiuti',
    category: '9/0101101IM/',
    iban: IBAN_COMUNE,
    spontaneous: false,
  },
  {
    ente: ENTI[0].fiscalCode,
    code: 'MULTE',
    description: 'Sanzioni codice della strada',
    category: '9/0301107TS/',
    iban: IBAN_COMUNE,
    spontaneous: false,
  },
  {
    ente: ENTI[0].fiscalCode,
    code: 'MENSA',
    description: 'Mensa scolastica',
    category: '9/0201133IM/',
    iban: IBAN_COMUNE,
    spontaneous: true,
    pagopaServiceId: '00001',
  },
  {
    ente: ENTI[1].fiscalCode,
    code: 'TRASPORTO',
    description: 'Trasporto scolastico',
    category: '9/0201102IM/',
    iban: POSTAL_IBAN_UNIONE,
    spontaneous: false,
  },
  {
    ente: ENTI[1].fiscalCode,
    code: 'CANONE',
    description: 'Canone unico patrimoniale',
    category: '9/0101112IM/',
    iban: IBAN_UNIONE,
    spontaneous: true,
    pagopaServiceId: '00012',
  },
];

export type DemoKind = 'single' | 'installments' | 'two-beneficiaries' | 'postal';

interface DemoPosition {
  kind: DemoKind;
  ente: string;
  service: string;
  positionId: string;
  description: string;
  debtor: DebtorDraft;
  options: PaymentOptionDraft[];
}

const person = (fiscalCode: string, fullName: string, email?: string): DebtorDraft => ({
  type: 'F',
  fiscalCode,
  fullName,
  email,
});
const company = (fiscalCode: string, fullName: string): DebtorDraft => ({ type: 'G', fiscalCode, fullName });

function single(cents: number, dueDate: string, iban: string, category: string): PaymentOptionDraft {
  return { installment: 0, amountCents: cents, dueDate, transfers: [{ amountCents: cents, iban, category }] };
}

function tari(positionId: string, debtor: DebtorDraft, cents: number): DemoPosition {
  return {
    kind: 'single',
    ente: ENTI[0].fiscalCode,
    service: 'TARI',
    positionId,
    description: `TARI 2026 - ${positionId}`,
    debtor,
    options: [single(cents, '2027-01-31', IBAN_COMUNE, '9/0101101IM/')],
  };
}

function canone(positionId: string, debtor: DebtorDraft, cents: number): DemoPosition {
  return {
    kind: 'single',
    ente: ENTI[1].fiscalCode,
    service: 'CANONE',
    positionId,
    description: `Canone unico 2026 - ${positionId}`,
    debtor,
    options: [single(cents, '2027-02-28', IBAN_UNIONE, '9/0101112IM/')],
  };
}

const DEBTORS = {
  rossi: person('RSSMRA85T10A562S', 'Mario Rossi', 'mario.rossi@example.org'),
  bianchi: person('BNCGLI90A41L219W', 'Giulia Bianchi', 'giulia.bianchi@example.org'),
  verdi: person('VRDLGU72C15F205L', 'Luigi Verdi'),
  ferrari: person('FRRNNA80E55H501H', 'Anna Ferrari', 'anna.ferrari@example.org'),
  colombo: person('CLMSFN65M20A794Y', 'Stefano Colombo'),
  galli: person('GLLPLA99H08D969K', 'Paolo Galli'),
  acme: company('00514490010', 'ACME Servizi S.r.l.'),
};

const POSITIONS: DemoPosition[] = [
  tari('DEMO-TARI-0001', DEBTORS.rossi, 12030),
  tari('DEMO-TARI-0002', DEBTORS.bianchi, 8750),
  tari('DEMO-TARI-0003', DEBTORS.verdi, 23400),
  tari('DEMO-TARI-0004', DEBTORS.ferrari, 5000),
  tari('DEMO-TARI-0005', DEBTORS.colombo, 31999),
  tari('DEMO-TARI-0006', DEBTORS.acme, 154000),
  {
    kind: 'installments',
    ente: ENTI[0].fiscalCode,
    service: 'TARI',
    positionId: 'DEMO-TARI-RATE-0001',
    description: 'TARI 2026 in tre rate',
    debtor: DEBTORS.galli,
    options: [
      single(30000, '2027-01-31', IBAN_COMUNE, '9/0101101IM/'),
      { ...single(10000, '2027-01-31', IBAN_COMUNE, '9/0101101IM/'), installment: 1 },
      { ...single(10000, '2027-03-31', IBAN_COMUNE, '9/0101101IM/'), installment: 2 },
      { ...single(10000, '2027-05-31', IBAN_COMUNE, '9/0101101IM/'), installment: 3 },
    ],
  },
  {
    kind: 'two-beneficiaries',
    ente: ENTI[0].fiscalCode,
    service: 'TARI',
    positionId: 'DEMO-TARI-TEFA-0001',
    description: "TARI 2026 con quota per l'Unione",
    debtor: DEBTORS.rossi,
    options: [
      {
        installment: 0,
        amountCents: 10000,
        dueDate: '2027-01-31',
        transfers: [
          { amountCents: 7000, iban: IBAN_COMUNE, category: '9/0101101IM/' },
          {
            enteFiscalCode: ENTI[1].fiscalCode,
            amountCents: 3000,
            iban: IBAN_UNIONE,
            category: '9/0101112IM/',
          },
        ],
      },
    ],
  },
  {
    kind: 'postal',
    ente: ENTI[1].fiscalCode,
    service: 'TRASPORTO',
    positionId: 'DEMO-TRASP-0001',
    description: 'Trasporto scolastico 2026/27',
    debtor: DEBTORS.bianchi,
    options: [single(18000, '2027-03-15', POSTAL_IBAN_UNIONE, '9/0201102IM/')],
  },
  canone('DEMO-CANONE-0001', DEBTORS.acme, 45000),
  canone('DEMO-CANONE-0002', DEBTORS.verdi, 12500),
  canone('DEMO-CANONE-0003', DEBTORS.ferrari, 9900),
  canone('DEMO-CANONE-0004', DEBTORS.colombo, 27050),
  {
    kind: 'single',
    ente: ENTI[0].fiscalCode,
    service: 'MENSA',
    positionId: 'DEMO-MENSA-0001',
    description: 'Mensa scolastica novembre 2026',
    debtor: DEBTORS.galli,
    options: [single(6480, '2026-12-20', IBAN_COMUNE, '9/0201133IM/')],
  },
];

/** Demo portal users: the connector's admin and one operator per demo ente. */
const PORTAL_USERS = [
  {
    username: 'admin',
    fullName: 'Amministratore demo',
    password: 'admin-demo-password',
    role: 'admin' as const,
  },
  {
    username: 'operatore.comune',
    fullName: 'Operatore Comune di Esempio',
    password: 'operatore-demo-password',
    role: 'operator' as const,
    ente: ENTI[0].fiscalCode,
  },
  {
    username: 'operatore.unione',
    fullName: 'Operatore Unione dei Comuni',
    password: 'operatore-demo-password',
    role: 'operator' as const,
    ente: ENTI[1].fiscalCode,
  },
];

export interface DemoSummary {
  broker: { fiscalCode: string; name: string };
  station: { stationId: string; password: string; dialect: string };
  enti: Array<{
    fiscalCode: string;
    name: string;
    auxDigit: number;
    segregationCode: string | null;
    iban: string | null;
    services: Array<{ code: string; description: string; category: string; spontaneous: boolean }>;
  }>;
  client: { username: string; password: string; models: readonly string[] };
  portalUsers: Array<{
    username: string;
    password: string;
    role: 'admin' | 'operator';
    enteFiscalCode: string | null;
  }>;
  positions: Array<{
    kind: DemoKind;
    enteFiscalCode: string;
    serviceCode: string;
    positionId: string;
    noticeNumber: string;
    iuv: string;
    amountCents: number;
    amount: string;
    debtorFiscalCode: string | null;
    installments: Array<{ installment: number; noticeNumber: string; amountCents: number; dueDate: string }>;
  }>;
}

export async function isDatabaseEmpty(store: Store): Promise<boolean> {
  return (await store.brokers.list()).length === 0;
}

async function ensureRegistry(store: Store): Promise<Ente[]> {
  const broker =
    (await store.brokers.getByFiscalCode(BROKER.fiscalCode)) ?? (await store.brokers.create(BROKER));
  const station =
    (await store.stations.getByStationId(STATION.stationId)) ??
    (await store.stations.create({ ...STATION, brokerId: broker.id }));
  const enti: Ente[] = [];
  for (const e of ENTI) {
    const ente =
      (await store.enti.getByFiscalCode(e.fiscalCode)) ??
      (await store.enti.create({ ...e, stationId: station.id, auxDigit: 3 }));
    enti.push(ente);
  }
  for (const s of SERVICES) {
    const ente = enti.find((e) => e.fiscalCode === s.ente) as Ente;
    if (!(await store.services.get(ente.id, s.code))) {
      await store.services.create({
        enteId: ente.id,
        code: s.code,
        description: s.description,
        category: s.category,
        iban: s.iban,
        spontaneous: s.spontaneous,
        pagopaServiceId: s.pagopaServiceId ?? null,
      });
    }
  }
  return enti;
}

async function ensurePosition(store: Store, demo: DemoPosition, ente: Ente): Promise<StoredPosition> {
  const existing = await store.positions.findByPositionId(ente.id, demo.positionId);
  if (existing) return existing;
  const draft: DebtPositionDraft = {
    positionId: demo.positionId,
    description: demo.description,
    debtor: demo.debtor,
    options: demo.options,
  };
  return createPosition(store, {
    enteFiscalCode: ente.fiscalCode,
    serviceCode: demo.service,
    draft,
    actor: ACTOR,
    cause: 'demo data',
  });
}

/** The school canteen's public form (/pay/spontaneo/<ente>/MENSA): a free top-up for a pupil. */
async function ensureSpontaneousForm(store: Store, ente: Ente): Promise<void> {
  const service = await store.services.get(ente.id, 'MENSA');
  if (!service || (await store.spontaneousForms.get(service.id))) return;
  await saveSpontaneousForm(
    store,
    service,
    {
      title: 'Ricarica mensa scolastica',
      instructions: "Indica l'alunno e la scuola; la ricarica è disponibile dal giorno dopo il pagamento.",
      fixedAmountCents: null,
      minAmountCents: 500,
      maxAmountCents: 30000,
      fields: [
        { key: 'alunno', label: "Nome e cognome dell'alunno", type: 'text', required: true, maxLength: 70 },
        {
          key: 'scuola',
          label: 'Scuola',
          type: 'select',
          required: true,
          options: ['Primaria Collodi', 'Primaria Rodari', 'Secondaria Manzoni'],
        },
      ],
      enabled: true,
    },
    ACTOR,
  );
}

export async function seedDemo(store: Store): Promise<DemoSummary> {
  const enti = await ensureRegistry(store);
  if (!(await store.clients.findByUsername(CLIENT.username))) {
    await addClient(store, {
      username: CLIENT.username,
      name: CLIENT.name,
      password: CLIENT.password,
      enti: enti.map((e) => e.fiscalCode),
      services: [],
      models: [...INTEGRATION_MODELS],
      returnUrlPrefixes: ['http://localhost', 'http://127.0.0.1'],
    });
  }
  for (const u of PORTAL_USERS) {
    if (!(await store.portalUsers.findForLogin(u.username))) {
      await createPortalUser(
        store,
        {
          username: u.username,
          fullName: u.fullName,
          password: u.password,
          role: u.role,
          enteFiscalCode: u.ente,
        },
        ACTOR,
      );
    }
  }
  await ensureSpontaneousForm(store, enti[0] as Ente);
  const positions: DemoSummary['positions'] = [];
  for (const demo of POSITIONS) {
    const ente = enti.find((e) => e.fiscalCode === demo.ente) as Ente;
    const stored = await ensurePosition(store, demo, ente);
    const main =
      stored.options.find((o) => o.installment === 0) ??
      (stored.options[0] as (typeof stored.options)[number]);
    positions.push({
      kind: demo.kind,
      enteFiscalCode: ente.fiscalCode,
      serviceCode: demo.service,
      positionId: stored.positionId,
      noticeNumber: main.noticeNumber ?? '',
      iuv: main.iuv,
      amountCents: main.amountCents,
      amount: formatAmount(parseAmountCents(main.amountCents)),
      debtorFiscalCode: stored.debtor?.fiscalCode ?? null,
      installments: stored.options
        .filter((o) => o.installment > 0)
        .map((o) => ({
          installment: o.installment,
          noticeNumber: o.noticeNumber ?? '',
          amountCents: o.amountCents,
          dueDate: o.dueDate,
        })),
    });
  }
  const summaryEnti = await Promise.all(
    enti.map(async (e) => ({
      fiscalCode: e.fiscalCode,
      name: e.name,
      auxDigit: e.auxDigit,
      segregationCode: e.segregationCode,
      iban: e.iban,
      services: (await store.services.listByEnte(e.id)).map((s) => ({
        code: s.code,
        description: s.description,
        category: s.category,
        spontaneous: s.spontaneous,
      })),
    })),
  );
  return {
    broker: BROKER,
    station: STATION,
    enti: summaryEnti,
    client: { username: CLIENT.username, password: CLIENT.password, models: INTEGRATION_MODELS },
    portalUsers: PORTAL_USERS.map((u) => ({
      username: u.username,
      password: u.password,
      role: u.role,
      enteFiscalCode: u.ente ?? null,
    })),
    positions,
  };
}
