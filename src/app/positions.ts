// Use cases on debt positions shared by every channel (SOAP, files, portal, CLI): validate the draft
// against the domain rules, give each payment option its own notice number, store it with its event.

import { domainError } from '../domain/errors.ts';
import { validateDebtPosition, type DebtPositionDraft } from '../domain/position.ts';
import type { Store } from '../db/store.ts';
import type { StoredPosition } from '../db/repositories/positions.ts';
import { issueNotices } from './notices.ts';

export interface CreatePositionRequest {
  enteFiscalCode: string;
  serviceCode: string;
  draft: DebtPositionDraft;
  actor: string;
  cause: string;
  clientId?: number | null;
}

export async function requireEnte(store: Store, fiscalCode: string) {
  const ente = await store.enti.getByFiscalCode(fiscalCode);
  if (!ente)
    throw domainError('ENTE_UNKNOWN', `no ente with fiscal code ${fiscalCode}`, {
      enteFiscalCode: fiscalCode,
    });
  return ente;
}

export async function requireService(store: Store, enteId: number, code: string) {
  const service = await store.services.get(enteId, code);
  if (!service)
    throw domainError('SERVICE_UNKNOWN', `the ente has no service ${code}`, { serviceCode: code });
  return service;
}

/**
 * Validates and stores a new position. Notice numbers are issued before the position's transaction
 * (issuing must not hold the sequence row lock for long); if the insert fails they stay recorded
 * but unused, which is harmless because an IUV is never reissued.
 */
export async function createPosition(store: Store, request: CreatePositionRequest): Promise<StoredPosition> {
  const ente = await requireEnte(store, request.enteFiscalCode);
  const service = await requireService(store, ente.id, request.serviceCode);
  const position = validateDebtPosition(request.draft, { enteFiscalCode: ente.fiscalCode });
  const existing = await store.positions.findByPositionId(ente.id, position.positionId);
  if (existing) {
    throw domainError('POSITION_DUPLICATE', `position ${position.positionId} already exists`, {
      positionId: position.positionId,
    });
  }
  const notices = await issueNotices(store, ente, position.options.length, {
    purpose: 'position',
    serviceId: service.id,
    clientId: request.clientId ?? null,
  });
  return store.transaction(async (tx) => {
    const stored = await tx.positions.insert(ente.id, service.id, position, {
      notices: notices.map((n) => ({ iuv: n.iuv, noticeNumber: n.noticeNumber ?? null })),
      cause: request.cause,
      actor: request.actor,
    });
    for (const option of stored.options) await tx.iuv.attach(ente.id, option.iuv, option.id);
    return stored;
  });
}
