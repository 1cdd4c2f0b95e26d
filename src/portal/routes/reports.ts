// Portal routes: CSV and xlsx reports, charts (issue 8 item 6).

import type { Router } from 'express';
import type { PortalContext } from '../context.ts';
import type { PortalUser } from '../../db/repositories/portalUsers.ts';
import type { Html } from '../citizen/html.ts';

export function registerReports(_router: Router, _ctx: PortalContext): void {
  // not built yet
}

/** The dashboard's panels (figures, charts) for the user's enti. */
export async function dashboardPanels(_ctx: PortalContext, _user: PortalUser): Promise<Html | string> {
  return '';
}
