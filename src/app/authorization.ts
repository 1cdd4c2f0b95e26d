// Scoping of gestionale requests (DESIGN §9): a credential acts only for the enti, services and
// integration models it is bound to. Public facts (an ente fiscal code that does not exist) get
// their own codes; everything outside the credential's bindings is UNAUTHORIZED.

import { domainError } from '../domain/errors.ts';
import type { Store } from '../db/store.ts';
import type { Ente } from '../db/repositories/enti.ts';
import type { Service } from '../db/repositories/services.ts';
import type { IntegrationModel } from '../db/repositories/clients.ts';

export interface ClientScope {
  clientId: number;
  enteIds: readonly number[];
  serviceIds: readonly number[];
  models: readonly IntegrationModel[];
}

export interface ScopeRequest {
  enteFiscalCode: string | null;
  serviceCode: string | null;
  /** The model the operation belongs to; null for read operations any bound client may use. */
  model: IntegrationModel | null;
}

export interface Scoped {
  ente: Ente;
  service: Service | null;
}

export async function authorize(store: Store, scope: ClientScope, request: ScopeRequest): Promise<Scoped> {
  if (request.model && !scope.models.includes(request.model)) {
    throw domainError('UNAUTHORIZED', `the credential is not bound to the ${request.model} model`, {
      model: request.model,
    });
  }
  const ente = request.enteFiscalCode ? await store.enti.getByFiscalCode(request.enteFiscalCode) : null;
  if (!ente) throw domainError('ENTE_UNKNOWN', 'unknown ente', { field: 'enteFiscalCode' });
  if (!scope.enteIds.includes(ente.id)) {
    throw domainError('UNAUTHORIZED', 'the credential is not bound to this ente', {
      field: 'enteFiscalCode',
    });
  }
  if (!request.serviceCode) return { ente, service: null };
  const service = await store.services.get(ente.id, request.serviceCode);
  if (!service) throw domainError('SERVICE_UNKNOWN', 'unknown service', { field: 'serviceCode' });
  if (!scope.serviceIds.includes(service.id)) {
    throw domainError('UNAUTHORIZED', 'the credential is not bound to this service', {
      field: 'serviceCode',
    });
  }
  return { ente, service };
}
