// A test gestionale's callback endpoint: a real SOAP server built by node-soap from OUR
// wsdl/gestionale-callback.wsdl (soap.listen on an http server on port 0) implementing the four
// callbacks. It records every request (operation, parsed arguments, raw XML and whether that XML
// validates against xsd/gestionale/gestionale-callback.xsd), answers OK, KO, late or not at all as
// the test says, and can be stopped and restarted on the same port (the gestionale "down").

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as soap from 'soap';
import { loadManifest, type ServiceDescription } from '../../src/soap/manifest.ts';
import { firstText, readEnvelope } from '../../src/soap/envelope.ts';
import { parseUntrusted, schemaSetFor } from '../../src/xml/schema.ts';

export const CALLBACK_OPERATIONS = [
  'notifyPayment',
  'notifyUploadOutcome',
  'notifyExpiredNotices',
  'notifyReconciliation',
] as const;
export type CallbackOperation = (typeof CALLBACK_OPERATIONS)[number];

export interface ReceivedCallback {
  operation: CallbackOperation;
  notificationId: string;
  /** The request as node-soap parsed it. */
  args: Record<string, unknown>;
}

/** What the endpoint does with a request: answer OK or KO, answer OK too late, or fail with a SOAP Fault. */
export type Reply = 'OK' | 'KO' | 'LATE' | 'FAULT';

export interface RawRequest {
  xml: string;
  /** null when the body element validates against the callback schema, else the complaints. */
  problem: string | null;
}

function callbackService(): ServiceDescription {
  const service = loadManifest().find((s) => s.interface === 'callback');
  if (!service) throw new Error('no callback service in xsd/manifest');
  return service;
}

function validate(xml: string): string | null {
  const doc = parseUntrusted(xml);
  try {
    const { payload } = readEnvelope(doc);
    const verdict = schemaSetFor(callbackService().schemas).validateNode(payload);
    return verdict.ok ? null : verdict.violations.map((v) => v.message).join(' ');
  } catch (err) {
    return String(err);
  } finally {
    doc.dispose();
  }
}

function notificationIdOf(xml: string): string {
  const doc = parseUntrusted(xml);
  try {
    return firstText(readEnvelope(doc).payload, 'notificationId') ?? '';
  } finally {
    doc.dispose();
  }
}

export class TestGestionale {
  readonly received: ReceivedCallback[] = [];
  readonly raw: RawRequest[] = [];
  /** Decides the reply per request; OK unless the test says otherwise. */
  reply: (callback: ReceivedCallback) => Reply = () => 'OK';
  /** How late a LATE reply comes. */
  lateMs = 1000;
  private server: http.Server | null = null;
  private port = 0;

  static async start(): Promise<TestGestionale> {
    const gestionale = new TestGestionale();
    await gestionale.listen(0);
    return gestionale;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/gestionale/callback`;
  }

  /** The requests received for one notification, in arrival order. */
  receivedFor(notificationId: string): ReceivedCallback[] {
    return this.received.filter((r) => r.notificationId === notificationId);
  }

  /** Stops answering: the port refuses connections until restart(). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens again on the same port. */
  async restart(): Promise<void> {
    await this.listen(this.port);
  }

  private async listen(port: number): Promise<void> {
    const service = callbackService();
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    const handlers = Object.fromEntries(CALLBACK_OPERATIONS.map((op) => [op, this.handler(op)]));
    const soapServer = await new Promise<soap.Server>((resolve, reject) => {
      const s = soap.listen(server, {
        path: '/gestionale/callback',
        services: { [service.service]: { [service.port]: handlers } },
        xml: fs.readFileSync(service.wsdlPath, 'utf8'),
        uri: service.wsdlPath,
        callback: (err: unknown) => (err ? reject(err) : resolve(s)),
      });
    });
    soapServer.log = (type: string, data: unknown) => {
      if (type !== 'received') return;
      const xml = String(data);
      this.raw.push({ xml, problem: validate(xml) });
    };
    this.server = server;
  }

  private handler(operation: CallbackOperation) {
    return async (args: Record<string, unknown>) => {
      const callback: ReceivedCallback = {
        operation,
        notificationId: String(args.notificationId ?? notificationIdOf(this.raw.at(-1)?.xml ?? '')),
        args,
      };
      this.received.push(callback);
      const reply = this.reply(callback);
      if (reply === 'FAULT') throw { Fault: { faultcode: 'soap:Server', faultstring: 'gestionale down' } };
      if (reply === 'LATE') await new Promise((resolve) => setTimeout(resolve, this.lateMs));
      if (reply === 'KO') {
        return { outcome: 'KO', fault: { faultCode: 'GEST_BUSY', faultString: 'try again later' } };
      }
      return { outcome: 'OK' };
    };
  }
}
