// The SOAP throughput baseline, run as its own process: a bare node-soap server on the same WSDLs
// (paForNode.wsdl at /ws/pagopa/paForNode, gestionale.wsdl at /ws/gestionale) whose operations answer
// a fixed response: node-soap's own parsing and serialisation, no guard, no XSD, no database.
// Prints `listening on <url>` once ready.

import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as soap from 'soap';
import { loadManifest } from '../../src/soap/manifest.ts';

const FIXED: Record<string, object> = {
  paVerifyPaymentNotice: {
    outcome: 'OK',
    paymentList: {
      paymentOptionDescription: {
        amount: '120.30',
        options: 'EQ',
        dueDate: '2099-12-31',
        detailDescription: 'Generated position 1',
        allCCP: 'false',
      },
    },
    paymentDescription: 'Generated position 1',
    fiscalCodePA: '01234567897',
    companyName: 'Comune di Benchmark',
  },
  requestIUV: { outcome: 'OK', iuv: '01000000000001234', noticeNumber: '301000000000001234' },
};

function listen(server: http.Server, wsdl: string): Promise<void> {
  const service = loadManifest().find((s) => s.wsdl === wsdl);
  if (!service?.path) throw new Error(`${wsdl}: not in the manifest`);
  const methods = Object.fromEntries(
    service.operations.map((op) => [op.name, () => FIXED[op.name] ?? { outcome: 'OK' }]),
  );
  return new Promise((resolve, reject) => {
    soap.listen(server, {
      path: service.path as string,
      services: { [service.service]: { [service.port]: methods } },
      xml: fs.readFileSync(service.wsdlPath, 'utf8'),
      uri: service.wsdlPath,
      suppressStack: true,
      callback: (err: unknown) => (err ? reject(err) : resolve()),
    } as soap.IServerOptions);
  });
}

const server = http.createServer((_req, res) => {
  res.statusCode = 404;
  res.end();
});
await listen(server, 'paForNode.wsdl');
await listen(server, 'gestionale.wsdl');
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
