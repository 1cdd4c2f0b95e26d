// Portal routes: enti, services, stations, gestionale clients, portal users (issue 8 item 2).

import type { Router } from 'express';
import type { PortalContext } from '../context.ts';

export function registerAdmin(_router: Router, _ctx: PortalContext): void {
  // not built yet
}
