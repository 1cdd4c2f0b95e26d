// Portal routes: spontaneous-payment forms of the services (issue 8 item 4).
//   GET  /portal/spontanei[?ente=CF]     the ente's services and their forms (an admin chooses the ente)
//   GET  /portal/spontanei/:serviceId    the form's editor
//   POST /portal/spontanei/:serviceId    saves it (400 with the errors next to the inputs)
// Another ente's service answers 404, as if it did not exist.

import type { Request, Response, Router } from 'express';
import { domainError } from '../../domain/errors.ts';
import type { Ente } from '../../db/repositories/enti.ts';
import type { Service } from '../../db/repositories/services.ts';
import {
  checkFormConfig,
  MAX_EXTRA_FIELDS,
  saveSpontaneousForm,
  servicesWithForms,
  type FieldDraft,
  type FormConfigDraft,
} from '../../app/portal/spontaneous.ts';
import { html } from '../citizen/html.ts';
import { actorOf, currentUser, field, requireEnteAccess, type PortalContext } from '../context.ts';
import { chosenEnte, enteChoices, handler, redirectWithFlash, sendPage } from '../http.ts';
import { configForm, draftOf, enteChooser, servicesTable, SPONTANEOUS_PORTAL } from '../pages/spontaneous.ts';

function checked(body: Record<string, unknown>, name: string): boolean {
  return field(body, name) !== '';
}

/** The editor's inputs as typed (flat names: f0_key, f0_label, ...). */
function draftFromBody(body: Record<string, unknown>): FormConfigDraft {
  const raw = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : '');
  const fields: FieldDraft[] = [];
  for (let i = 0; i < MAX_EXTRA_FIELDS; i++) {
    fields.push({
      key: field(body, `f${i}_key`),
      label: field(body, `f${i}_label`),
      type: field(body, `f${i}_type`) || 'text',
      required: checked(body, `f${i}_required`),
      options: raw(`f${i}_options`),
      maxLength: field(body, `f${i}_maxLength`),
    });
  }
  return {
    enabled: checked(body, 'enabled'),
    title: field(body, 'title'),
    instructions: raw('instructions'),
    amountMode: field(body, 'amountMode'),
    fixedAmount: field(body, 'fixedAmount'),
    minAmount: field(body, 'minAmount'),
    maxAmount: field(body, 'maxAmount'),
    fields,
  };
}

/** The service of the URL, when the user may see its ente; else 404. */
async function serviceOf(
  ctx: PortalContext,
  req: Request,
  res: Response,
): Promise<{ service: Service; ente: Ente }> {
  const id = String(req.params.serviceId ?? '');
  const notFound = () => domainError('SERVICE_UNKNOWN', 'no such service', { notFound: true });
  if (!/^[1-9][0-9]{0,9}$/.test(id)) throw notFound();
  const service = await ctx.store.services.getById(Number(id));
  if (!service) throw notFound();
  requireEnteAccess(currentUser(res), service.enteId, 'service');
  const ente = await ctx.store.enti.getById(service.enteId);
  if (!ente) throw notFound();
  return { service, ente };
}

export function registerSpontaneousAdmin(router: Router, ctx: PortalContext): void {
  router.get(
    '/spontanei',
    handler(ctx, async (req, res) => {
      const user = currentUser(res);
      const ente = await chosenEnte(ctx, res, field(req.query, 'ente'));
      const chooser = user.role === 'admin' ? enteChooser(await enteChoices(ctx, user), ente) : '';
      const rows = ente ? await servicesWithForms(ctx.store, ente.id) : [];
      sendPage(res, 200, {
        title: 'Pagamenti spontanei',
        active: SPONTANEOUS_PORTAL,
        lead: 'I servizi per cui i cittadini possono pagare dalla pagina pubblica, compilando un modulo.',
        body: html`${chooser} ${ente ? servicesTable(ente, rows) : html`<p>Scegli un ente.</p>`}`,
      });
    }),
  );

  router.get(
    '/spontanei/:serviceId',
    handler(ctx, async (req, res) => {
      const { service, ente } = await serviceOf(ctx, req, res);
      const saved = await ctx.store.spontaneousForms.get(service.id);
      sendPage(res, 200, {
        title: `Modulo di pagamento spontaneo: ${service.code}`,
        active: SPONTANEOUS_PORTAL,
        lead: `${ente.name}: ${service.description}`,
        body: configForm(res, { ente, service, saved }, draftOf(saved, service), {}),
      });
    }),
  );

  router.post(
    '/spontanei/:serviceId',
    handler(ctx, async (req, res) => {
      const { service, ente } = await serviceOf(ctx, req, res);
      const draft = draftFromBody(req.body as Record<string, unknown>);
      const { config, errors } = checkFormConfig(draft, { service, ente });
      if (!config) {
        const saved = await ctx.store.spontaneousForms.get(service.id);
        return sendPage(res, 400, {
          title: `Modulo di pagamento spontaneo: ${service.code}`,
          active: SPONTANEOUS_PORTAL,
          lead: `${ente.name}: ${service.description}`,
          body: configForm(res, { ente, service, saved }, draft, errors),
        });
      }
      await saveSpontaneousForm(ctx.store, service, config, actorOf(res));
      await redirectWithFlash(ctx, res, `${SPONTANEOUS_PORTAL}/${service.id}`, {
        kind: 'success',
        text: config.enabled
          ? 'Modulo salvato: i cittadini possono ora pagare dalla pagina pubblica.'
          : 'Modulo salvato (non attivo).',
      });
    }),
  );
}
