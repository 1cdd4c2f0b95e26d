// getNoticeDocument: maps the reference (positionId [+ installment] or noticeNumber) and the kind to
// the notice or receipt use case, renders the PDF and answers it as pt:ctPrintedDocument (base64),
// in schema order. Scoped like getDebtPosition: another service's position does not exist.

import type { Store } from '../../db/store.ts';
import { documentTarget, noticeDocumentOf, onlyInstallment } from '../../app/noticeDocument.ts';
import { receiptDocumentOf } from '../../app/receiptDocument.ts';
import { renderNoticePdf } from '../../portal/noticePdf.ts';
import { renderReceiptPdf } from '../../portal/receiptPdf.ts';
import type { GetNoticeDocumentRequest } from '../../xml/generated/gestionale/gestionale.ts';
import type { GestionaleHandler } from './common.ts';

interface Printed {
  kind: 'NOTICE' | 'RECEIPT';
  fileName: string;
  pdf: Buffer;
}

function documentObject(printed: Printed): Record<string, unknown> {
  return {
    kind: printed.kind,
    fileName: printed.fileName,
    mimeType: 'application/pdf',
    content: printed.pdf.toString('base64'),
  };
}

export function getNoticeDocument(store: Store): GestionaleHandler {
  return async (args, call) => {
    const request = args as unknown as GetNoticeDocumentRequest;
    const { position, installment } = await documentTarget(store, {
      ente: call.ente,
      serviceIds: call.caller.serviceIds,
      positionId: request.positionId ?? null,
      noticeNumber: request.noticeNumber ?? null,
      installment: request.installment === undefined ? null : Number(request.installment),
    });
    const suffix = installment === undefined ? '' : `-rata-${installment}`;
    let printed: Printed;
    if (request.kind === 'RECEIPT') {
      const data = await receiptDocumentOf(store, call.ente, position, installment);
      printed = {
        kind: 'RECEIPT',
        fileName: `ricevuta-${data.noticeNumber ?? data.iuv}.pdf`,
        pdf: await renderReceiptPdf(data),
      };
    } else {
      const whole = await noticeDocumentOf(store, call.ente, position);
      const data = installment === undefined ? whole : onlyInstallment(whole, installment);
      printed = {
        kind: 'NOTICE',
        fileName: `avviso-${position.positionId}${suffix}.pdf`.replace(/[/\\]/g, '_'),
        pdf: await renderNoticePdf(data),
      };
    }
    return { outcome: 'OK', document: documentObject(printed) };
  };
}
