// Edge mapping shared by the legacy (SANP 2.x) EC operation modules, pagopa-facts §4: the
// intestazionePPT header read from the raw request (node-soap hands handlers only the body), the
// caller it names, the datiPagamentoPA / numeroAvviso answers in schema element order, and the legacy
// KO answers whose codes the shared fault mapper does not know. No business rule lives here.

import { XmlElement as XmlElementClass } from 'libxml2-wasm';
import { parseNoticeNumber } from '../../domain/noticeNumber.ts';
import type { DomainError } from '../../domain/errors.ts';
import type { NodeCaller } from '../../app/pagopa/identity.ts';
import type { PayableNotice } from '../../app/pagopa/payments.ts';
import { causaleVersamento } from '../../pagopa/rpt.ts';
import { parseUntrusted } from '../../xml/schema.ts';
import type { Beneficiary } from '../../xml/generated/pagopa/documents/rpt-rt.ts';
import type { EcPaymentData } from '../../xml/generated/pagopa/legacy/paPerNodoPagamentoPsp.ts';
import type { NoticeNumberParts } from '../../xml/generated/pagopa/legacy/paPerNodoRichiestaAvvisi.ts';
import { childrenNamed, readEnvelope } from '../envelope.ts';
import type { SoapContext } from '../guard.ts';
import { pagopaFault, pagopaFaultFor, type PagopaFault } from '../faults/pagopa.ts';
import { amountText } from './currentModel.ts';

const PPTHEAD_NS = 'http://ws.pagamenti.telematici.gov/ppthead';

/** The intestazionePPT fields, by local name (the avvisi header has no IUV or CCP). */
export interface LegacyHeader {
  identificativoIntermediarioPA: string;
  identificativoStazioneIntermediarioPA: string;
  identificativoDominio: string;
  identificativoUnivocoVersamento: string;
  codiceContestoPagamento: string;
}

/** The header of a request that already passed the guard (so it is there and schema-valid). */
export function legacyHeaderOf(ctx: SoapContext): LegacyHeader {
  const fields: Record<string, string> = {};
  const doc = parseUntrusted(ctx.requestXml);
  try {
    const { header } = readEnvelope(doc);
    const [block] = childrenNamed(header, PPTHEAD_NS, 'intestazionePPT');
    for (let field = block?.firstChild ?? null; field; field = field.next) {
      if (field instanceof XmlElementClass) fields[field.name] = field.content.trim();
    }
  } finally {
    doc.dispose();
  }
  return {
    identificativoIntermediarioPA: fields.identificativoIntermediarioPA ?? '',
    identificativoStazioneIntermediarioPA: fields.identificativoStazioneIntermediarioPA ?? '',
    identificativoDominio: fields.identificativoDominio ?? '',
    identificativoUnivocoVersamento: fields.identificativoUnivocoVersamento ?? '',
    codiceContestoPagamento: fields.codiceContestoPagamento ?? '',
  };
}

export function legacyCallerOf(header: LegacyHeader): NodeCaller {
  return {
    enteFiscalCode: header.identificativoDominio,
    brokerFiscalCode: header.identificativoIntermediarioPA,
    stationId: header.identificativoStazioneIntermediarioPA,
  };
}

function text70(value: string): string {
  return value.length <= 70 ? value : value.slice(0, 70);
}

const PAGAMENTI_NS = 'http://www.digitpa.gov.it/schemas/2011/Pagamenti/';

/**
 * enteBeneficiario is an RPT/RT type whose children are qualified in the Pagamenti namespace while
 * everything around them is unqualified; node-soap qualifies only what the key names, so the keys
 * carry a prefix the element itself declares.
 */
function beneficiaryOf(notice: PayableNotice): Beneficiary {
  const qualified = {
    attributes: { 'xmlns:pay_i': PAGAMENTI_NS },
    'pay_i:identificativoUnivocoBeneficiario': {
      'pay_i:tipoIdentificativoUnivoco': 'G',
      'pay_i:codiceIdentificativoUnivoco': notice.ente.fiscalCode,
    },
    'pay_i:denominazioneBeneficiario': text70(notice.ente.name),
  };
  return qualified as unknown as Beneficiary;
}

/**
 * datiPagamentoPA: one amount and one account for the whole notice (legacy model 3 pays one RPT of
 * one EC): the amount due today, the first transfer's IBAN, the EC as beneficiary, and the causale
 * in the /RFB/ (or /RFS/) form of pagopa-facts §6.
 */
export function datiPagamentoPAOf(notice: PayableNotice): EcPaymentData {
  const [first] = notice.transfers;
  return {
    importoSingoloVersamento: amountText(notice.amountCents),
    ibanAccredito: first?.iban ?? '',
    enteBeneficiario: beneficiaryOf(notice),
    causaleVersamento: causaleVersamento(notice.iuv, notice.amountCents, notice.description),
  };
}

/** numeroAvviso split in its parts: aux digit, application code (aux 0 only), IUV. */
export function numeroAvvisoOf(notice: PayableNotice): NoticeNumberParts {
  const parsed = parseNoticeNumber(notice.noticeNumber);
  return {
    auxDigit: String(parsed.auxDigit),
    ...(parsed.applicationCode ? { applicationCode: parsed.applicationCode } : {}),
    IUV: parsed.iuv,
  };
}

/** Legacy codes the shared catalogue (src/soap/faults/pagopa.ts) does not carry. */
type LegacyOnlyCode = 'PAA_ATTIVA_RPT_IMPORTO_NON_VALIDO';

const LEGACY_ONLY_STRINGS: Record<LegacyOnlyCode, string> = {
  PAA_ATTIVA_RPT_IMPORTO_NON_VALIDO:
    'L’importo del pagamento in attesa non è congruente con il dato indicato dal PSP.',
};

interface LegacyFault {
  faultCode: PagopaFault['faultCode'] | LegacyOnlyCode;
  faultString: string;
  id: string;
  description?: string | undefined;
}

/**
 * The fault the node sees for a business error of a legacy operation (pagoPA "gestione degli errori",
 * Nodo → EC): a repeated RT is PAA_RT_DUPLICATA, an RT for no RPT of ours PAA_RPT_SCONOSCIUTA, an RT
 * that breaks its schema PAA_SINTASSI_XSD, a paaAttivaRPT amount other than the amount due
 * PAA_ATTIVA_RPT_IMPORTO_NON_VALIDO; everything else as for the current model.
 */
export function legacyFaultFor(err: DomainError, id: string, ctx: SoapContext): LegacyFault {
  const operation = ctx.operation.name;
  if (operation === 'paaInviaRT') {
    if (err.code === 'RECEIPT_DUPLICATE') return pagopaFault('PAA_RT_DUPLICATA', id, err.message);
    if (err.code === 'PAYMENT_UNKNOWN') return pagopaFault('PAA_RPT_SCONOSCIUTA', id, err.message);
    if (err.code === 'INVALID_DOCUMENT') return pagopaFault('PAA_SINTASSI_XSD', id, err.message);
  }
  if (operation === 'paaAttivaRPT' && err.code === 'INVALID_AMOUNT') {
    const code: LegacyOnlyCode = 'PAA_ATTIVA_RPT_IMPORTO_NON_VALIDO';
    return { faultCode: code, faultString: LEGACY_ONLY_STRINGS[code], id, description: err.message };
  }
  return pagopaFaultFor(err, id, ctx.correlationId);
}

/** The KO answer object (inner element named like the answer: fault, then esito). */
export function legacyKoObject(ctx: SoapContext, fault: LegacyFault): object {
  const bean = {
    faultCode: fault.faultCode,
    faultString: fault.faultString,
    id: fault.id,
    ...(fault.description ? { description: fault.description } : {}),
  };
  return { [ctx.operation.output.localName]: { fault: bean, esito: 'KO' } };
}
