// paDemandPaymentNotice (SANP 3.x, pagopa-facts §3, §5): a spontaneous payment started at a PSP.
// Decodes the base64 service data and maps the request to demandPaymentNotice, which creates the
// position; answers its qrCode and payment option (data shape: src/app/pagopa/serviceData.ts).

import type { Store } from '../../db/store.ts';
import { demandPaymentNotice } from '../../app/pagopa/spontaneous.ts';
import type {
  PaDemandPaymentNoticeRequest,
  PaDemandPaymentNoticeResponse,
} from '../../xml/generated/pagopa/current/paForNode.ts';
import type { OperationHandler } from '../server.ts';
import { callerOf, noticeSummaryOf, qrCodeOf } from './currentModel.ts';

export function paDemandPaymentNotice(store: Store): OperationHandler {
  return async (args) => {
    const request = args as unknown as PaDemandPaymentNoticeRequest;
    const notice = await demandPaymentNotice(store, {
      caller: callerOf(request),
      pagopaServiceId: request.idServizio,
      serviceSubjectId: request.idSoggettoServizio,
      serviceData: Buffer.from(String(request.datiSpecificiServizioRequest), 'base64'),
    });
    const answer: PaDemandPaymentNoticeResponse = {
      outcome: 'OK',
      qrCode: qrCodeOf(notice),
      ...noticeSummaryOf(notice),
    };
    return answer;
  };
}
