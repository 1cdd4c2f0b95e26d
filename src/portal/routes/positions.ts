// Portal routes: manual entry, edit, cancel, position detail and timeline (issue 8 items 3, 5).

import type { Router } from 'express';
import type { PortalContext } from '../context.ts';

export function registerPositions(_router: Router, _ctx: PortalContext): void {
  // not built yet
}
