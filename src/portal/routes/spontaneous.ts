// Portal routes: spontaneous-payment forms of the services (issue 8 item 4).

import type { Router } from 'express';
import type { PortalContext } from '../context.ts';

export function registerSpontaneousAdmin(_router: Router, _ctx: PortalContext): void {
  // not built yet
}
