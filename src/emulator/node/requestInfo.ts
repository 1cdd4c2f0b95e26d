// SOAP handlers receive only the guard's context (src/soap/guard.ts), but the node needs two more
// things from the HTTP request: the origin it was reached at (answers carry absolute checkout URLs)
// and the SOAP header fields the context does not copy (IUV, CCP, identificativoCarrello). This
// middleware runs before the guard and records them against the context object at the moment the
// guard assigns req.soap, once the body has been read and validated.

import type { RequestHandler, Request } from 'express';
import { XmlElement } from 'libxml2-wasm';
import type { SoapContext } from '../../soap/guard.ts';
import { readEnvelope } from '../../soap/envelope.ts';
import { parseUntrusted } from '../../xml/schema.ts';

export interface RequestInfo {
  /** Scheme, host and port the caller used, e.g. http://127.0.0.1:8080. */
  origin: string;
  /** Text of every field of every SOAP header block, by local name. */
  header: Record<string, string>;
}

const infos = new WeakMap<SoapContext, RequestInfo>();

function headerFields(body: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  if (!Buffer.isBuffer(body)) return fields;
  const doc = parseUntrusted(body);
  try {
    const { header } = readEnvelope(doc);
    for (let block = header?.firstChild ?? null; block; block = block.next) {
      if (!(block instanceof XmlElement)) continue;
      for (let field = block.firstChild; field; field = field.next) {
        if (field instanceof XmlElement) fields[field.name] = field.content.trim();
      }
    }
    return fields;
  } finally {
    doc.dispose();
  }
}

export function originOf(req: Request, publicUrl: string | undefined): string {
  return publicUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

export function rememberRequestInfo(publicUrl: string | undefined): RequestHandler {
  return (req, _res, next) => {
    let context: SoapContext | undefined;
    Object.defineProperty(req, 'soap', {
      configurable: true,
      enumerable: true,
      get: () => context,
      set: (value: SoapContext | undefined) => {
        context = value;
        // The guard assigns the context only after the envelope passed its checks: parsing succeeds.
        if (value) infos.set(value, { origin: originOf(req, publicUrl), header: headerFields(req.body) });
      },
    });
    next();
  };
}

export function requestInfo(ctx: SoapContext): RequestInfo {
  const info = infos.get(ctx);
  if (!info) throw new Error('the emulator request-info middleware did not run for this request');
  return info;
}
