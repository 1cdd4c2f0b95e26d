// Spontaneous payments started at a PSP (paDemandPaymentNotice; legacy paaChiediNumeroAvviso),
// pagopa-facts §3 "model 4": the node names the service by its pagoPA idServizio and sends the
// service data; the EC creates an open position on the fly and answers its notice.

import { randomUUID } from 'node:crypto';
import { domainError } from '../../domain/errors.ts';
import { addDays, italianDate } from '../../domain/payability.ts';
import { ANONYMOUS_DEBTOR, type DebtPositionDraft, type DebtorDraft } from '../../domain/position.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Service } from '../../db/repositories/services.ts';
import { createPosition } from '../positions.ts';
import { checkNodeCaller, type NodeCaller } from './identity.ts';
import { describeNotice, NODE_ACTOR, type PagopaUseCaseOptions, type PayableNotice } from './payments.ts';
import { parseServiceData } from './serviceData.ts';

export interface DemandRequest {
  caller: NodeCaller;
  /** pagoPA idServizio (5 characters): services.pagopa_service_id of a spontaneous service. */
  pagopaServiceId: string;
  /** idSoggettoServizio: who offers the service in pagoPA's catalogue; recorded, not interpreted. */
  serviceSubjectId?: string | null;
  /** The service data, already decoded from base64 (see serviceData.ts for the shape). */
  serviceData: Uint8Array;
}

/** How long a spontaneous notice stays payable: the citizen pays it right away at the PSP. */
export const SPONTANEOUS_VALIDITY_DAYS = 30;

const ANONYMOUS_PAYER: DebtorDraft = {
  type: 'F',
  fiscalCode: ANONYMOUS_DEBTOR,
  fullName: 'Versamento spontaneo',
};

async function spontaneousService(store: Store, ente: Ente, pagopaServiceId: string): Promise<Service> {
  const services = await store.services.listByEnte(ente.id);
  const service = services.find(
    (s) => s.pagopaServiceId === pagopaServiceId && s.spontaneous && s.status === 'active',
  );
  // pagoPA has no dedicated code for an unknown service: PAA_SEMANTICA with the reason in the description.
  if (!service) {
    throw domainError('INVALID_INPUT', `no spontaneous service ${pagopaServiceId} at this EC`, {
      field: 'idServizio',
    });
  }
  return service;
}

/**
 * paDemandPaymentNotice: creates the position (createPosition, so the usual validation, notice
 * issuing and events apply) and describes its notice for the answer.
 */
export async function demandPaymentNotice(
  store: Store,
  request: DemandRequest,
  options: PagopaUseCaseOptions = {},
): Promise<PayableNotice> {
  const now = options.now ?? new Date();
  const { ente } = await checkNodeCaller(store, request.caller);
  const service = await spontaneousService(store, ente, request.pagopaServiceId);
  const data = parseServiceData(request.serviceData);
  if (data.serviceCode !== null && data.serviceCode !== service.code) {
    throw domainError('INVALID_INPUT', 'the service data names another service', { field: 'codiceServizio' });
  }
  const iban = service.iban ?? ente.iban;
  if (!iban)
    throw domainError('CONFIG_INVALID', 'the service has no IBAN to credit', { serviceCode: service.code });
  const draft: DebtPositionDraft = {
    positionId: `SPONT-${randomUUID()}`,
    description: data.description ?? service.description,
    debtor: data.debtor ?? ANONYMOUS_PAYER,
    options: [
      {
        installment: 0,
        amountCents: data.amountCents,
        dueDate: addDays(italianDate(now), SPONTANEOUS_VALIDITY_DAYS),
        transfers: [{ amountCents: data.amountCents, iban, category: service.category }],
      },
    ],
  };
  const position = await createPosition(store, {
    enteFiscalCode: ente.fiscalCode,
    serviceCode: service.code,
    draft,
    actor: options.actor ?? NODE_ACTOR,
    cause: `paDemandPaymentNotice ${request.pagopaServiceId}/${request.serviceSubjectId ?? '-'}`,
  });
  const option = position.options[0];
  if (!option) throw domainError('INVALID_POSITION', 'the new position has no option', {});
  return describeNotice(store, ente, position, option, now);
}
