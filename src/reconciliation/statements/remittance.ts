// The remittance text (SEPA AT-05) of the credit transfer that settles a pagoPA reporting flow
// (pagopa-facts §8.2): `/PUR/LGPE-RIVERSAMENTO/URI/<identificativoFlusso>`, with an optional
// `/TXT/<0-9>` progressive for integrative transfers, or the older SACI form with free text.

import { domainError } from '../../domain/errors.ts';

const PREFIX = '/PUR/LGPE-RIVERSAMENTO';
/** identificativoFlusso as FlussoRiversamento's schema allows it. */
const FLOW_ID = /^[A-Za-z0-9_-]{1,35}$/;

/**
 * The prefix (any case), then anything (the `/TXT/<n>` progressive, or the older free text such as
 * ` Cumulativo 15/01/2024`, which may itself hold slashes), then `/URI/` and the flow id. The id
 * must end where the id characters end: a longer run is not a flow id, so it is not guessed at.
 */
const PAGOPA_REMITTANCE = /\/PUR\/LGPE-RIVERSAMENTO.*?\/URI\/\s*([A-Za-z0-9_-]{1,35})(?![A-Za-z0-9_-])/is;

/** AT-05 for a flow: `/PUR/LGPE-RIVERSAMENTO/URI/<flowId>`, or `…/TXT/<p>/URI/<flowId>` with progressive p (0-9). */
export function pagopaRemittance(flowId: string, progressive?: number): string {
  if (!FLOW_ID.test(flowId)) {
    throw domainError('INVALID_INPUT', 'a flow id is 1 to 35 letters, digits, - or _', { field: 'flowId' });
  }
  if (progressive === undefined) return `${PREFIX}/URI/${flowId}`;
  if (!Number.isInteger(progressive) || progressive < 0 || progressive > 9) {
    throw domainError('INVALID_INPUT', 'the remittance progressive is a single digit, 0 to 9', {
      field: 'progressive',
    });
  }
  return `${PREFIX}/TXT/${progressive}/URI/${flowId}`;
}

/** The identificativoFlusso named by a pagoPA settlement's remittance text, or null for any other text. */
export function flowIdFromRemittance(text: string | null): string | null {
  if (text === null) return null;
  return PAGOPA_REMITTANCE.exec(text)?.[1] ?? null;
}
