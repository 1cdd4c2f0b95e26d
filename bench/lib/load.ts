// Load generation with autocannon's programmatic API, and the SOAP requests the benchmarks send:
// paVerifyPaymentNotice as the node sends it (a random stored notice each time) and requestIUV as a
// gestionale sends it (WS-Security UsernameToken, PasswordText). Every answer is checked: only a
// 200 carrying <outcome>OK</outcome> counts as a success.

import autocannon from 'autocannon';
import { WSSE_NS } from '../../src/soap/wsSecurity.ts';
import { cpuMs } from './proc.ts';
import { CLIENT, type Site } from './site.ts';

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  /** Requests answered 200 with outcome OK. */
  ok: number;
  /** Everything else: transport errors, timeouts, non-2xx, KO answers. */
  failed: number;
  /** CPU time the server process spent per answered request (ms), when its pid was given. */
  cpuPerRequest: number | null;
}

export interface SoapCall {
  path: string;
  soapAction: string;
  body: () => string;
  /** Sees each OK answer body (e.g. to collect the IUVs issued). */
  onOk?: (body: string) => void;
}

export async function load(
  baseUrl: string,
  call: SoapCall,
  connections: number,
  seconds: number,
  serverPids: readonly number[] = [],
): Promise<LoadResult> {
  let ok = 0;
  let ko = 0;
  const cpuBefore = totalCpu(serverPids);
  const result = await autocannon({
    url: baseUrl,
    connections,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path: call.path,
        headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${call.soapAction}"` },
        setupRequest: (req) => ({ ...req, body: call.body() }),
        onResponse: (status, body) => {
          if (status === 200 && body.includes('<outcome>OK</outcome>')) {
            ok += 1;
            call.onOk?.(body);
          } else ko += 1;
        },
      },
    ],
  });
  const cpuAfter = totalCpu(serverPids);
  const answered = ok + ko;
  return {
    cpuPerRequest:
      cpuBefore !== null && cpuAfter !== null && answered > 0 ? (cpuAfter - cpuBefore) / answered : null,
    rps: ok / (result.duration || seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok,
    failed: ko + result.errors + result.timeouts,
  };
}

function totalCpu(pids: readonly number[]): number | null {
  if (pids.length === 0) return null;
  let sum = 0;
  for (const pid of pids) {
    const ms = cpuMs(pid);
    if (ms === null) return null;
    sum += ms;
  }
  return sum;
}

const PAFN = 'http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd';

export function verifyCall(site: Site, notices: readonly string[]): SoapCall {
  let n = 0;
  return {
    path: '/ws/pagopa/paForNode',
    soapAction: 'paVerifyPaymentNotice',
    body: () => {
      const notice = notices[n++ % notices.length];
      return (
        `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:pafn="${PAFN}"><soapenv:Body>` +
        `<pafn:paVerifyPaymentNoticeReq><idPA>${site.enteFiscalCode}</idPA><idBrokerPA>${site.brokerFiscalCode}</idBrokerPA>` +
        `<idStation>${site.stationId}</idStation><qrCode><fiscalCode>${site.enteFiscalCode}</fiscalCode>` +
        `<noticeNumber>${notice}</noticeNumber></qrCode></pafn:paVerifyPaymentNoticeReq></soapenv:Body></soapenv:Envelope>`
      );
    },
  };
}

export function requestIuvCall(site: Site, onOk?: (body: string) => void): SoapCall {
  const xml =
    `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header>` +
    `<wsse:Security xmlns:wsse="${WSSE_NS}"><wsse:UsernameToken><wsse:Username>${CLIENT.username}</wsse:Username>` +
    `<wsse:Password>${CLIENT.password}</wsse:Password></wsse:UsernameToken></wsse:Security></soapenv:Header>` +
    `<soapenv:Body><g:requestIUVRequest xmlns:g="http://ppay-connector.it/gestionale/v1">` +
    `<enteFiscalCode>${site.enteFiscalCode}</enteFiscalCode><serviceCode>TARI</serviceCode>` +
    `</g:requestIUVRequest></soapenv:Body></soapenv:Envelope>`;
  return { path: '/ws/gestionale', soapAction: 'requestIUV', body: () => xml, onOk };
}

/** Up to `limit` notice numbers of the site's unpaid options, in random order. */
export async function sampleNotices(site: Site, limit: number): Promise<string[]> {
  const rows: Array<{ notice_number: string }> = await site
    .db('payment_options')
    .where({ ente_id: site.enteId, status: 'UNPAID' })
    .whereNotNull('notice_number')
    .orderByRaw('random()')
    .limit(limit)
    .select('notice_number');
  if (rows.length === 0) throw new Error('no notices to verify');
  return rows.map((r) => r.notice_number);
}
