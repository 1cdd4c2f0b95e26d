// What a payment run reports: one step per call or phase (its name, outcome, and the fault code the
// EC or the node gave), collected in order and, when a caller listens, reported as they happen.

import type { Store } from '../db/store.ts';
import type { CallResult } from './clients.ts';
import type { EmulatorDb } from './db.ts';

export interface PaymentStep {
  /** The operation called (paVerifyPaymentNotice, paaInviaRT, ...) or the node's own phase. */
  step: string;
  outcome: 'OK' | 'KO' | 'SKIPPED';
  faultCode?: string;
  description?: string;
  /** The EC a per-EC step (a receipt delivery) is about. */
  fiscalCode?: string;
}

/** What a payment run needs: the connector's registry and the emulator's state, and where the EC is. */
export interface EmulatorContext {
  store: Store;
  edb: EmulatorDb;
  /** Base URL of the connector (its EC endpoints are under /ws/pagopa/). */
  connectorUrl: string;
  now?: () => Date;
}

export class StepLog {
  readonly steps: PaymentStep[] = [];

  constructor(private readonly onStep?: (step: PaymentStep) => void) {}

  add(step: PaymentStep): PaymentStep {
    this.steps.push(step);
    this.onStep?.(step);
    return step;
  }

  /** Records a call's outcome: transport failures and KO answers carry their fault code. */
  call(
    step: string,
    result: CallResult,
    answerOf: (answer: Record<string, unknown>) => { outcome?: unknown; fault?: unknown } | undefined,
    fiscalCode?: string,
  ): { ok: boolean; faultCode: string | null } {
    const about = fiscalCode ? { fiscalCode } : {};
    if (!result.ok) {
      this.add({
        step,
        outcome: 'KO',
        faultCode: result.faultCode,
        description: result.description,
        ...about,
      });
      return { ok: false, faultCode: result.faultCode };
    }
    const answer = answerOf(result.answer) ?? {};
    if (answer.outcome === 'OK') {
      this.add({ step, outcome: 'OK', ...about });
      return { ok: true, faultCode: null };
    }
    const fault = (answer.fault ?? {}) as { faultCode?: unknown; description?: unknown };
    const faultCode =
      typeof fault.faultCode === 'string' ? fault.faultCode : 'PPT_STAZIONE_INT_PA_ERRORE_RESPONSE';
    const description = typeof fault.description === 'string' ? fault.description : undefined;
    this.add({ step, outcome: 'KO', faultCode, ...(description ? { description } : {}), ...about });
    return { ok: false, faultCode };
  }
}
