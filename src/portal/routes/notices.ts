// Portal routes: notice and receipt PDFs (issue 8 item 7).

import type { Router } from 'express';
import type { PortalContext } from '../context.ts';

export function registerNotices(_router: Router, _ctx: PortalContext): void {
  // not built yet
}
