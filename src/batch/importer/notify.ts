// notifyUploadOutcome for an imported file (gestionale-callback.xsd, source FILE): queued in the
// transaction that records the import's result, like the SOAP upload worker's, so it exists exactly
// when the import is DONE. The callback names one service, so a file is announced once per service
// of its records, to each client bound to the ente and that service with a callback URL; the
// notificationId derives from (client, import, service). Records of no known service (syntax
// errors, an unknown service code) are reported in every notification of the file, so a
// single-service file, the usual case, is reported whole. Item outcomes are included up to the
// callback's 1000. A rejected file has no records: it is answered by its outcome file only.

import type { ErrorCode } from '../../domain/errors.ts';
import type { Store } from '../../db/store.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { FileImport, ImportLine } from '../../db/repositories/imports.ts';
import { stableId } from '../../app/gestionale/common.ts';
import {
  MAX_UPLOAD_ITEMS,
  NOTIFY_UPLOAD_OUTCOME,
  type UploadOutcomeNotification,
} from '../../app/gestionale/uploads.ts';
import type { ItemResult, NoticeResult } from '../../app/gestionale/uploadItems.ts';
import type { UploadAction } from '../../db/repositories/uploads.ts';
import type { RowErrorCode } from '../formats/types.ts';

// The callback schema's identifier patterns (pt:stIdentifier, pt:stPositionId).
const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const POSITION_ID = /^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$/;
const ACTIONS: readonly string[] = ['INSERT', 'UPDATE', 'CANCEL'];

/** The domain code a row code stands for, so the callback's fault uses the gestionale catalogue. */
const DOMAIN_CODE_OF: Readonly<Record<RowErrorCode, ErrorCode>> = {
  E_SYNTAX: 'INVALID_INPUT',
  E_DUP_IN_FILE: 'DUPLICATE_IN_MESSAGE',
  E_ALREADY_EXISTS: 'POSITION_DUPLICATE',
  E_IUV_INVALID: 'INVALID_IUV',
  E_IUV_DUPLICATE: 'NOTICE_DUPLICATE',
  E_NOT_FOUND: 'POSITION_UNKNOWN',
  E_IN_PAYMENT: 'PAYMENT_IN_PROGRESS',
  E_PAID: 'POSITION_ALREADY_PAID',
  E_CANCELLED: 'POSITION_CANCELLED',
  E_SERVICE_UNKNOWN: 'SERVICE_UNKNOWN',
  E_SERVICE_DISABLED: 'SERVICE_UNKNOWN',
  E_DEBTOR_INVALID: 'INVALID_POSITION',
  E_AMOUNT: 'INVALID_AMOUNT',
  E_TOO_MANY_TRANSFERS: 'INVALID_TRANSFER',
  E_DUE_DATE: 'INVALID_DATE',
  E_TAXONOMY: 'INVALID_TRANSFER',
  E_IUV_ALLOCATION: 'IUV_EXHAUSTED',
  // No domain code means "internal"; CONFIG_INVALID is answered PPAY_SYSTEM_ERROR, as it should.
  E_INTERNAL: 'CONFIG_INVALID',
};

function domainCodeOf(code: string | null): ErrorCode {
  return DOMAIN_CODE_OF[code as RowErrorCode] ?? 'INVALID_INPUT';
}

/** The messageId of a file: its flow id when it is an identifier, else the import id. */
export function messageIdOf(imp: FileImport): string {
  return imp.flowId && IDENTIFIER.test(imp.flowId) ? imp.flowId : imp.id;
}

function noticesOf(lines: readonly ImportLine[]): NoticeResult[] {
  const stored = lines.find((l) => Array.isArray(l.notices));
  if (stored) return stored.notices as NoticeResult[];
  return lines.flatMap((l) =>
    l.iuv && l.noticeNumber && l.amountCents !== null && l.dueDate
      ? [
          {
            installment: l.installmentNo ?? 0,
            iuv: l.iuv,
            noticeNumber: l.noticeNumber,
            amountCents: l.amountCents,
            dueDate: l.dueDate,
          },
        ]
      : [],
  );
}

/** One item per record (its lines share item_no), in file order; lines the schema cannot carry are left out. */
export function itemResultsOf(lines: readonly ImportLine[]): ItemResult[] {
  const groups = new Map<number, ImportLine[]>();
  for (const line of lines) groups.set(line.itemNo, [...(groups.get(line.itemNo) ?? []), line]);
  const items: ItemResult[] = [];
  for (const [itemNo, group] of groups) {
    const first = group[0] as ImportLine;
    if (!first.positionId || !POSITION_ID.test(first.positionId) || !ACTIONS.includes(first.action ?? ''))
      continue;
    const failed = group.find((l) => l.outcome === 'KO');
    items.push({
      sequence: itemNo + 1,
      positionId: first.positionId,
      action: first.action as UploadAction,
      outcome: failed ? 'KO' : 'OK',
      notices: failed ? [] : noticesOf(group),
      error: failed
        ? { code: domainCodeOf(failed.errorCode), message: failed.errorMessage ?? failed.errorCode ?? 'KO' }
        : undefined,
    });
  }
  return items;
}

/**
 * Queues notifyUploadOutcome for a DONE import, per service and client; pass the transaction that
 * records the result. Returns how many were queued (ids are stable: a retried completion queues none).
 */
export async function enqueueImportNotifications(tx: Store, imp: FileImport, ente: Ente): Promise<number> {
  let queued = 0;
  for (const summary of await tx.imports.serviceSummaries(imp.id)) {
    const clients = await tx.clients.listCallbackTargets(ente.id, summary.serviceId);
    const service = await tx.services.getById(summary.serviceId);
    if (clients.length === 0 || !service) continue;
    const items =
      summary.itemCount <= MAX_UPLOAD_ITEMS
        ? itemResultsOf(await tx.imports.linesOfService(imp.id, summary.serviceId))
        : [];
    for (const client of clients) {
      const notificationId = stableId(NOTIFY_UPLOAD_OUTCOME, client.id, imp.id, summary.serviceId);
      const payload: UploadOutcomeNotification = {
        notificationId,
        eventDateTime: imp.updatedAt,
        enteFiscalCode: ente.fiscalCode,
        serviceCode: service.code,
        uploadId: imp.id,
        messageId: messageIdOf(imp),
        source: 'FILE',
        fileName: imp.fileName,
        summary: { itemCount: summary.itemCount, okCount: summary.okCount, koCount: summary.koCount },
        itemOutcome: items,
      };
      const { created } = await tx.outbox.enqueueOnce(notificationId, {
        topic: NOTIFY_UPLOAD_OUTCOME,
        target: client.id,
        payload,
      });
      if (created) queued += 1;
    }
  }
  return queued;
}
