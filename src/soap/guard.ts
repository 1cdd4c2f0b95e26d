// The checks every inbound SOAP message passes before node-soap or any handler sees it: size cap
// (also after gzip/deflate inflation), no DOCTYPE, well-formed SOAP 1.1 envelope, a body element
// that is one of the service's operations, SOAPAction agreeing with it, credentials (gestionale),
// and XSD validation of the body element and declared headers. Every exchange is logged.

import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { XmlDocument, XmlElement } from 'libxml2-wasm';
import type { Store } from '../db/store.ts';
import { parseUntrusted, schemaSetFor, XmlRejected, type CompiledSchema } from '../xml/schema.ts';
import type { XmlNode } from '../xml/build.ts';
import {
  childrenNamed,
  envelope,
  EnvelopeError,
  firstTexts,
  readEnvelope,
  soapFault,
  type FaultCode,
} from './envelope.ts';
import type { OperationDescription, ServiceDescription } from './manifest.ts';
import { logMessage, logMessages, type LoggedMessage } from './messageLog.ts';
import { readUsernameToken, type Authenticator, type Principal } from './wsSecurity.ts';

/** What the guard learnt about a request, for the handler that answers it. */
export interface SoapContext {
  correlationId: string;
  service: ServiceDescription;
  operation: OperationDescription;
  principal: Principal | null;
  /** Identity fields read from the validated message (idPA, identificativoDominio, ...). */
  identity: Record<string, string | null>;
  /** The request envelope exactly as received, for documents stored whole (e.g. a paSendRT receipt). */
  requestXml: string;
  /** Logs the answer sent together with the request, in one write (see `check`). */
  logExchange: (answerXml: string, direction?: 'response' | 'fault', httpStatus?: number) => Promise<void>;
}

declare module 'express-serve-static-core' {
  interface Request {
    soap?: SoapContext;
  }
}

/** Answers for a body that breaks the schema: each interface words it its own way. */
export type SchemaRejection = (
  operation: OperationDescription,
  identity: Record<string, string | null>,
  detail: string,
) => XmlNode;

export interface GuardOptions {
  service: ServiceDescription;
  store: Store;
  maxBodyBytes: number;
  /** Required for the gestionale interface: requests without valid credentials get soap:Client. */
  authenticator?: Authenticator;
  rejectSchema: SchemaRejection;
}

const FIXED_TEXT = {
  tooLarge: 'The message is too large',
  doctype: 'DOCTYPE is not allowed',
  malformed: 'The message is not well-formed XML',
  envelope: 'The message is not a SOAP 1.1 envelope with one body element',
  operation: 'The body element is not an operation of this service',
  soapAction: 'The SOAPAction header does not match the body element',
  credentials: 'Authentication failed',
  elementName: 'An element name of the message is not accepted',
} as const;

// node-soap looks every element name up in plain objects: a header entry named `toString` or
// `__proto__` made it answer a bare 500 with its own internal message. Such names are never ours.
const PROTOTYPE_NAMES_XPATH = `//*[${Object.getOwnPropertyNames(Object.prototype)
  .map((name) => `local-name()='${name}'`)
  .join(' or ')}]`;

/** Decodes like Buffer#toString('utf8') (a BOM kept) but throws on any invalid byte sequence. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Element names whose text identifies the caller; read once the message has passed the schema. */
const IDENTITY_FIELDS = [
  'idPA',
  'idBrokerPA',
  'idStation',
  'identificativoDominio',
  'identificativoIntermediarioPA',
  'identificativoStazioneIntermediarioPA',
  'enteFiscalCode',
  'serviceCode',
] as const;

function soapActionOf(req: Request): string | null {
  const raw = req.headers.soapaction;
  if (typeof raw !== 'string') return null;
  return raw.trim().replace(/^"(.*)"$/, '$1');
}

function readIdentity(payload: XmlElement, header: XmlElement | null): Record<string, string | null> {
  // One pass per element, not one per field: a body of 100 000 elements must not cost seconds.
  const inPayload = firstTexts(payload, IDENTITY_FIELDS);
  const inHeader = header ? firstTexts(header, IDENTITY_FIELDS) : null;
  const identity: Record<string, string | null> = {};
  for (const field of IDENTITY_FIELDS) identity[field] = inPayload.get(field) ?? inHeader?.get(field) ?? null;
  return identity;
}

class Rejection extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super('rejected');
  }
}

function clientFault(text: string, correlationId: string, status = 500): Rejection {
  return new Rejection(status, soapFault('soap:Client' satisfies FaultCode, text, correlationId));
}

export function soapGuard(options: GuardOptions): RequestHandler[] {
  const { service, store } = options;
  const schema: CompiledSchema = schemaSetFor(service.schemas);
  const byElement = new Map(service.operations.map((o) => [`{${o.input.namespace}}${o.input.localName}`, o]));

  const readBody = express.raw({ type: () => true, limit: options.maxBodyBytes, inflate: true });

  function validateHeaders(header: XmlElement | null, operation: OperationDescription): string[] {
    const problems: string[] = [];
    for (const expected of operation.inputHeaders) {
      const [element] = childrenNamed(header, expected.namespace, expected.localName);
      if (!element) {
        problems.push(`missing SOAP header ${expected.localName}`);
        continue;
      }
      const result = schema.validateNode(element);
      if (!result.ok) problems.push(...result.violations.map((v) => v.message));
    }
    return problems;
  }

  type Inspected = Omit<SoapContext, 'logExchange'>;

  async function inspect(
    req: Request,
    text: string | null,
    correlationId: string,
  ): Promise<Inspected | Rejection> {
    // Invalid UTF-8 is refused, never decoded to U+FFFD: a receipt must be stored as it was sent.
    if (text === null) return clientFault(FIXED_TEXT.malformed, correlationId);
    let doc: XmlDocument;
    try {
      doc = parseUntrusted(text);
    } catch (err) {
      if (err instanceof XmlRejected) return clientFault(FIXED_TEXT[err.reason], correlationId);
      throw err;
    }
    try {
      const { header, payload } = readEnvelope(doc);
      if (doc.find(PROTOTYPE_NAMES_XPATH).length > 0)
        return clientFault(FIXED_TEXT.elementName, correlationId);
      const operation = byElement.get(`{${payload.namespaceUri}}${payload.name}`);
      if (!operation) return clientFault(FIXED_TEXT.operation, correlationId);
      if (soapActionOf(req) !== operation.soapAction)
        return clientFault(FIXED_TEXT.soapAction, correlationId);
      let principal: Principal | null = null;
      if (options.authenticator) {
        principal = await options.authenticator.authenticate(readUsernameToken(header));
        if (!principal) return clientFault(FIXED_TEXT.credentials, correlationId);
      }
      const result = schema.validateNode(payload);
      const problems = [
        ...(result.ok ? [] : result.violations.map((v) => v.message)),
        ...validateHeaders(header, operation),
      ];
      const identity = readIdentity(payload, header);
      if (problems.length > 0) {
        const answer = options.rejectSchema(operation, identity, problems.slice(0, 5).join(' '));
        return new Rejection(200, envelope(answer));
      }
      return { correlationId, service, operation, principal, identity, requestXml: text };
    } catch (err) {
      if (err instanceof EnvelopeError) return clientFault(FIXED_TEXT.envelope, correlationId);
      throw err;
    } finally {
      doc.dispose();
    }
  }

  // The id is assigned before the body is read, so even a refused oversized body has one.
  const assignId = (_req: Request, res: Response, next: NextFunction): void => {
    const correlationId = randomUUID();
    res.locals.correlationId = correlationId;
    res.setHeader('X-Correlation-Id', correlationId);
    next();
  };

  const check = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const correlationId = res.locals.correlationId as string;
    const raw = Buffer.isBuffer(req.body) ? req.body : null;
    // Decoded once: strictly for the checks and the handlers, lossily only for logging a refused body.
    const text = raw ? strictUtf8(raw) : null;
    const message = (
      direction: LoggedMessage['direction'],
      xml: string,
      operation: string | null,
    ): LoggedMessage => ({
      correlationId,
      direction,
      service: service.service,
      operation,
      xml,
    });
    try {
      if (!raw || raw.length === 0) {
        return await send(
          res,
          clientFault(FIXED_TEXT.envelope, correlationId),
          store,
          message('request', '', null),
        );
      }
      const outcome = await inspect(req, text, correlationId);
      const requestXml = text ?? raw.toString('utf8');
      if (outcome instanceof Rejection)
        return await send(res, outcome, store, message('request', requestXml, null));
      // Durability choice (issue 9): the request is written together with its answer, in one INSERT
      // once the answer is sent (server.ts, soapErrorHandler), instead of one write transaction before
      // the handler and one after. A request that gets no logged answer (node-soap error, connection
      // closed) is still logged alone when the response closes. Trade-off: a crash of the whole
      // process between this check and the answer now loses the request row too, not only the
      // answer's; and the request row carries the time of the write, not of its arrival.
      const request = message('request', requestXml, outcome.operation.name);
      let pending = true;
      const logExchange: SoapContext['logExchange'] = (answerXml, direction = 'response', httpStatus) => {
        const answer = { ...message(direction, answerXml, outcome.operation.name), httpStatus };
        const messages = pending ? [request, answer] : [answer];
        pending = false;
        return logMessages(store, messages);
      };
      res.on('close', () => {
        if (!pending) return;
        pending = false;
        logMessage(store, request).catch(() => undefined);
      });
      req.soap = { ...outcome, logExchange };
      next();
    } catch (err) {
      next(err);
    }
  };

  return [assignId, readBody, check];
}

function strictUtf8(raw: Buffer): string | null {
  try {
    return STRICT_UTF8.decode(raw);
  } catch {
    return null;
  }
}

async function send(
  res: Response,
  rejection: Rejection,
  store: Store,
  request: LoggedMessage,
): Promise<void> {
  // The request and the refusal in one write, before it is sent: the log never misses an answer
  // the caller has seen.
  await logMessages(store, [
    request,
    {
      ...request,
      direction: rejection.status === 200 ? 'response' : 'fault',
      xml: rejection.body,
      httpStatus: rejection.status,
    },
  ]);
  res.status(rejection.status).type('text/xml; charset=utf-8').send(rejection.body);
}

/** express error handler for the SOAP paths: body too large, unreadable encoding, anything else. */
export function soapErrorHandler(service: ServiceDescription, store: Store) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(err);
    const correlationId = (res.locals.correlationId as string | undefined) ?? randomUUID();
    const status = (err as { status?: number }).status;
    const type = (err as { type?: string }).type;
    let body: string;
    let code: number;
    if (type === 'entity.too.large') {
      code = 413;
      body = soapFault('soap:Client', FIXED_TEXT.tooLarge, correlationId);
    } else if (status !== undefined && status >= 400 && status < 500) {
      code = 400;
      body = soapFault('soap:Client', FIXED_TEXT.malformed, correlationId);
    } else {
      code = 500;
      body = soapFault('soap:Server', 'Internal error', correlationId);
    }
    const reply = () => void res.status(code).type('text/xml; charset=utf-8').send(body);
    if (req.soap) return void req.soap.logExchange(body, 'fault', code).then(reply, reply);
    logMessage(store, {
      correlationId,
      direction: 'fault',
      service: service.service,
      operation: null,
      xml: body,
      httpStatus: code,
    }).then(reply, reply);
  };
}
