// Portal routes: search of positions and payments, reconciliation, outbox (issue 8 item 5).

import type { Router } from 'express';
import type { PortalContext } from '../context.ts';

export function registerMonitoring(_router: Router, _ctx: PortalContext): void {
  // not built yet
}
