// Portal routes: Excel upload, template and outcome workbook (issue 8 item 3).

import type { Router } from 'express';
import type { PortalContext } from '../context.ts';

export function registerUploads(_router: Router, _ctx: PortalContext): void {
  // not built yet
}
