// The RPT (Richiesta di Pagamento Telematico, PagInf_RPT_RT 6.2.0, pagopa-facts §6) the connector
// sends in the legacy model: one RPT per EC and payment attempt (idDominio, IUV, CCP), with up to
// five datiSingoloVersamento credited to that EC's own accounts. Amounts are written from integer
// cents with the one formatter; every value is escaped by the XML writer.

import { formatAmount, parseAmountCents } from '../domain/money.ts';
import { isRfReference } from '../domain/rfReference.ts';
import { document, el, leaf, type XmlNode } from '../xml/build.ts';

export const PAGAMENTI_NS = 'http://www.digitpa.gov.it/schemas/2011/Pagamenti/';
const P = 'pay_i';

export type TipoVersamento = 'BBT' | 'BP' | 'AD' | 'CP' | 'PO' | 'OBEP' | 'OTH' | 'JIF' | 'MYBK' | 'PPAL';

export interface RptParty {
  type: 'F' | 'G';
  fiscalCode: string;
  name: string;
  email?: string | null;
  streetName?: string | null;
  civicNumber?: string | null;
  postalCode?: string | null;
  city?: string | null;
  province?: string | null;
  country?: string | null;
}

export interface RptTransfer {
  amountCents: number;
  iban: string;
  remittance: string;
  /** Taxonomy code, e.g. `9/0101101IM/` (datiSpecificiRiscossione). */
  category: string;
}

export interface RptInput {
  enteFiscalCode: string;
  enteName: string;
  stationId: string;
  messageId: string;
  /** Local date-time of the request, `YYYY-MM-DDThh:mm:ss`. */
  dateTime: string;
  paymentDate: string;
  iuv: string;
  ccp: string;
  tipoVersamento: TipoVersamento;
  payer: RptParty;
  transfers: RptTransfer[];
}

function p(name: string, ...children: Parameters<typeof el>[2][]): XmlNode {
  return el(`${P}:${name}`, null, ...children);
}

function pleaf(name: string, value: string | null | undefined): XmlNode | null {
  return value === null || value === undefined || value === '' ? null : leaf(`${P}:${name}`, value);
}

/** `/RFB/<IUV>/<amount>/TXT/<text>` (or `/RFS/` for an ISO 11649 IUV), cut to the 140 characters allowed. */
export function causaleVersamento(iuv: string, amountCents: number, text: string): string {
  const head = `/${isRfReference(iuv) ? 'RFS' : 'RFB'}/${iuv}/${formatAmount(parseAmountCents(amountCents))}`;
  const withText = text ? `${head}/TXT/${text}` : head;
  return withText.slice(0, 140);
}

function payer(party: RptParty): XmlNode {
  return p(
    'soggettoPagatore',
    p(
      'identificativoUnivocoPagatore',
      pleaf('tipoIdentificativoUnivoco', party.type),
      pleaf('codiceIdentificativoUnivoco', party.fiscalCode),
    ),
    pleaf('anagraficaPagatore', party.name.slice(0, 70)),
    pleaf('indirizzoPagatore', party.streetName?.slice(0, 70)),
    pleaf('civicoPagatore', party.civicNumber?.slice(0, 16)),
    pleaf('capPagatore', party.postalCode?.slice(0, 16)),
    pleaf('localitaPagatore', party.city?.slice(0, 35)),
    pleaf('provinciaPagatore', party.province?.slice(0, 35)),
    pleaf('nazionePagatore', party.country),
    pleaf('e-mailPagatore', party.email?.slice(0, 256)),
  );
}

export function buildRpt(input: RptInput): string {
  const total = input.transfers.reduce((sum, t) => sum + t.amountCents, 0);
  return document(
    el(
      `${P}:RPT`,
      { [`xmlns:${P}`]: PAGAMENTI_NS },
      pleaf('versioneOggetto', '6.2.0'),
      p(
        'dominio',
        pleaf('identificativoDominio', input.enteFiscalCode),
        pleaf('identificativoStazioneRichiedente', input.stationId),
      ),
      pleaf('identificativoMessaggioRichiesta', input.messageId),
      pleaf('dataOraMessaggioRichiesta', input.dateTime),
      pleaf('autenticazioneSoggetto', 'N/A'),
      payer(input.payer),
      p(
        'enteBeneficiario',
        p(
          'identificativoUnivocoBeneficiario',
          pleaf('tipoIdentificativoUnivoco', 'G'),
          pleaf('codiceIdentificativoUnivoco', input.enteFiscalCode),
        ),
        pleaf('denominazioneBeneficiario', input.enteName.slice(0, 70)),
      ),
      p(
        'datiVersamento',
        pleaf('dataEsecuzionePagamento', input.paymentDate),
        pleaf('importoTotaleDaVersare', formatAmount(parseAmountCents(total))),
        pleaf('tipoVersamento', input.tipoVersamento),
        pleaf('identificativoUnivocoVersamento', input.iuv),
        pleaf('codiceContestoPagamento', input.ccp),
        pleaf('firmaRicevuta', '0'),
        ...input.transfers.map((t) =>
          p(
            'datiSingoloVersamento',
            pleaf('importoSingoloVersamento', formatAmount(parseAmountCents(t.amountCents))),
            pleaf('ibanAccredito', t.iban),
            pleaf('causaleVersamento', causaleVersamento(input.iuv, t.amountCents, t.remittance)),
            pleaf('datiSpecificiRiscossione', t.category),
          ),
        ),
      ),
    ),
  );
}
