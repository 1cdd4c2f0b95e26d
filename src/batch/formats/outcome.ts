// The outcome files written to out/ for every input (flat-file-formats.md §6, ppay-flows.xsd):
// `<input base>.esito.csv` (a header, then one line per input data line, written as records are
// processed) and, for XML inputs, the debtPositionsOutcome document (one record per item). Also
// the mapping from a record and what applying it did to its outcome lines, so every format is
// answered the same way.

import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import type { NoticeResult } from '../../app/gestionale/uploadItems.ts';
import { document, el, leaf, type XmlNode } from '../../xml/build.ts';
import { FLOWS_NS } from '../../xml/paths.ts';
import { neutraliseValue } from './csvSafety.ts';
import {
  ACTION_LETTERS,
  OUTCOME_CSV_COLUMNS,
  type FileErrorCode,
  type FileFormatError,
  type ImportAction,
  type ImportRecord,
  type ImportRowError,
  type LineOutcome,
  type OutcomeCode,
  type OutcomeLine,
  type RowErrorCode,
} from './types.ts';

export const OUTCOME_CSV_DELIMITER = ';';
export const OUTCOME_CSV_HEADER = OUTCOME_CSV_COLUMNS.join(OUTCOME_CSV_DELIMITER);
/** error_message and the XML message are stText1024. */
const MESSAGE_MAX = 1024;
const POSITION_ID = /^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$/;

/** What applying one record did: the numbers of every option, or why nothing was changed. */
export type RecordResult =
  | { outcome: 'OK'; notices: readonly NoticeResult[] }
  | { outcome: 'KO'; code: RowErrorCode; message: string; field?: string | undefined };

// ---------------------------------------------------------------------------------------------
// Records → outcome lines
// ---------------------------------------------------------------------------------------------

function messageOf(message: string, field?: string): string {
  const text = field && !message.includes(field) ? `${field}: ${message}` : message;
  const flat = text.replace(/[\r\n]+/g, ' ').trim();
  return flat.length > MESSAGE_MAX ? `${flat.slice(0, MESSAGE_MAX - 1)}…` : flat;
}

/**
 * One outcome line per line of the record. For a position, each line is the option read from it
 * (its installment, amount and due date; its IUV and notice number once applied). An applied
 * line with a warning is WARN.
 */
export function outcomeLinesOf(record: ImportRecord, result: RecordResult): OutcomeLine[] {
  const options = 'position' in record ? record.position.options : [];
  return record.lines.map((rowNo) => {
    const option = options.find((o) => o.line === rowNo);
    const line: OutcomeLine = {
      rowNo,
      positionId: record.positionId,
      installmentNo: option?.installment,
      action: record.action,
      outcome: 'OK',
      amountCents: option?.amountCents,
      dueDate: option?.dueDate,
    };
    if (result.outcome === 'KO') {
      return {
        ...line,
        outcome: 'KO',
        errorCode: result.code,
        errorMessage: messageOf(result.message, result.field),
      };
    }
    const notice = option && result.notices.find((n) => n.installment === option.installment);
    const applied: OutcomeLine = notice
      ? {
          ...line,
          iuv: notice.iuv,
          noticeNumber: notice.noticeNumber,
          amountCents: notice.amountCents,
          dueDate: notice.dueDate,
        }
      : line;
    const warning = record.warnings.find((w) => w.line === rowNo);
    return warning
      ? { ...applied, outcome: 'WARN', errorCode: warning.code, errorMessage: messageOf(warning.message) }
      : applied;
  });
}

export function outcomeLineOfError(error: ImportRowError): OutcomeLine {
  return {
    rowNo: error.line,
    positionId: error.positionId,
    installmentNo: error.installment,
    action: error.action,
    outcome: 'KO',
    errorCode: error.code,
    errorMessage: messageOf(error.message, error.field),
  };
}

/**
 * The single line of a rejected file's CSV outcome: row_no 0 stands for the file itself (where
 * the problem was found is in the message), so it can never be taken for a data line.
 */
export function fileRejectionLine(error: Pick<FileFormatError, 'code' | 'message' | 'line'>): OutcomeLine {
  const where =
    error.line !== undefined && !error.message.includes(`line ${error.line}`) ? ` (line ${error.line})` : '';
  return {
    rowNo: 0,
    outcome: 'KO',
    errorCode: error.code,
    errorMessage: messageOf(`${error.message}${where}`),
  };
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

/**
 * RFC 4180 quoting, only where needed; the reader of this module (splitCsvLine) reads it back. A
 * text a spreadsheet would take for a formula (a position id `=1+2`) is neutralised (csvSafety.ts).
 */
export function csvField(value: string | number | undefined): string {
  if (value === undefined) return '';
  const text = String(neutraliseValue(value)).replace(/[\r\n]+/g, ' ');
  return /[;"]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

export function outcomeCsvLine(line: OutcomeLine): string {
  return [
    line.rowNo,
    line.positionId,
    line.installmentNo,
    line.action && ACTION_LETTERS[line.action],
    line.outcome,
    line.errorCode,
    line.errorMessage,
    line.iuv,
    line.noticeNumber,
    line.amountCents,
    line.dueDate,
  ]
    .map(csvField)
    .join(OUTCOME_CSV_DELIMITER);
}

/**
 * Writes `<input base>.esito.csv` as records are processed: the header on the first write, then
 * each line as given (the caller writes them in input order), honouring backpressure. finish()
 * adds nothing but the header of an outcome with no lines, ends the stream and waits for it.
 */
export class OutcomeCsvWriter {
  private headerWritten = false;
  private written = 0;

  constructor(private readonly out: Writable) {}

  /** Lines written so far, header excluded. */
  get lineCount(): number {
    return this.written;
  }

  async write(line: OutcomeLine): Promise<void> {
    if (!this.headerWritten) await this.put(OUTCOME_CSV_HEADER);
    await this.put(outcomeCsvLine(line));
    this.written += 1;
  }

  async writeAll(lines: Iterable<OutcomeLine>): Promise<void> {
    for (const line of lines) await this.write(line);
  }

  async finish(): Promise<void> {
    if (!this.headerWritten) await this.put(OUTCOME_CSV_HEADER);
    this.out.end();
    await finished(this.out);
  }

  private async put(text: string): Promise<void> {
    this.headerWritten = true;
    if (!this.out.write(`${text}\n`)) await once(this.out, 'drain');
  }
}

// ---------------------------------------------------------------------------------------------
// XML (debtPositionsOutcome)
// ---------------------------------------------------------------------------------------------

export interface OutcomeXmlHeader {
  enteFiscalCode: string;
  serviceCode?: string | undefined;
  flowId?: string | undefined;
  uploadId?: string | undefined;
  sourceFileName: string;
  /** Lower-case hex. */
  sourceSha256?: string | undefined;
  /** xs:dateTime. */
  processedAt: string;
  /** The whole file refused: the header says why and no record follows. */
  rejection?: { code: FileErrorCode; message: string } | undefined;
}

export interface OutcomeXmlRecord {
  /** XML input: the item's sequence; CSV input: the physical line. */
  line: number;
  positionId?: string | undefined;
  installment?: number | undefined;
  action?: ImportAction | undefined;
  outcome: LineOutcome;
  errorCode?: OutcomeCode | undefined;
  message?: string | undefined;
  notices: readonly NoticeResult[];
}

/** The outcome record of an XML item: one per record, with the numbers of every option. */
export function outcomeXmlRecordOf(record: ImportRecord, result: RecordResult): OutcomeXmlRecord {
  const base = { line: record.lines[0] ?? 0, positionId: record.positionId, action: record.action };
  if (result.outcome === 'KO') {
    return {
      ...base,
      outcome: 'KO',
      errorCode: result.code,
      message: messageOf(result.message, result.field),
      notices: [],
    };
  }
  const warning = record.warnings[0];
  return warning
    ? {
        ...base,
        outcome: 'WARN',
        errorCode: warning.code,
        message: messageOf(warning.message),
        notices: result.notices,
      }
    : { ...base, outcome: 'OK', notices: result.notices };
}

export function outcomeXmlRecordOfError(error: ImportRowError): OutcomeXmlRecord {
  return outcomeXmlRecordOfLine(outcomeLineOfError(error));
}

/** A CSV outcome line as an XML record (an XML outcome for a CSV input). */
export function outcomeXmlRecordOfLine(line: OutcomeLine): OutcomeXmlRecord {
  const notice: NoticeResult | null =
    line.iuv && line.noticeNumber && line.amountCents !== undefined && line.dueDate
      ? {
          installment: line.installmentNo ?? 0,
          iuv: line.iuv,
          noticeNumber: line.noticeNumber,
          amountCents: line.amountCents,
          dueDate: line.dueDate,
        }
      : null;
  return {
    line: line.rowNo,
    positionId: line.positionId,
    installment: line.installmentNo,
    action: line.action,
    outcome: line.outcome,
    errorCode: line.errorCode,
    message: line.errorMessage,
    notices: notice ? [notice] : [],
  };
}

function optionalMessage(name: string, message: string | undefined): XmlNode | null {
  const text = message === undefined ? '' : messageOf(message);
  return text === '' ? null : leaf(name, text);
}

function noticeNode(notice: NoticeResult): XmlNode {
  return el(
    'notice',
    null,
    leaf('installment', notice.installment),
    leaf('iuv', notice.iuv),
    leaf('noticeNumber', notice.noticeNumber),
    leaf('amountCents', notice.amountCents),
    leaf('dueDate', notice.dueDate),
  );
}

function recordNode(record: OutcomeXmlRecord): XmlNode {
  // A positionId the schema would refuse (a broken CSV row) is left out rather than break the file.
  const positionId = record.positionId && POSITION_ID.test(record.positionId) ? record.positionId : undefined;
  const installment =
    record.installment !== undefined && record.installment >= 0 && record.installment <= 100
      ? record.installment
      : undefined;
  return el(
    'record',
    null,
    leaf('line', record.line),
    leaf('positionId', positionId),
    leaf('installment', installment),
    leaf('action', record.action),
    leaf('outcome', record.outcome),
    leaf('errorCode', record.errorCode),
    optionalMessage('message', record.message),
    ...record.notices.slice(0, 100).map(noticeNode),
  );
}

function summaryNode(records: readonly OutcomeXmlRecord[]): XmlNode {
  const count = (outcome: LineOutcome) => records.filter((r) => r.outcome === outcome).length;
  return el(
    'summary',
    null,
    leaf('recordCount', records.length),
    leaf('okCount', count('OK')),
    leaf('koCount', count('KO')),
    leaf('warnCount', count('WARN')),
  );
}

/**
 * The debtPositionsOutcome document: header (with the counts) then the records in input order.
 * A rejected file (header.rejection) has outcome KO, its F_* code and no records.
 */
export function buildOutcomeXml(header: OutcomeXmlHeader, records: readonly OutcomeXmlRecord[]): string {
  const rejected = header.rejection !== undefined;
  const kept = rejected ? [] : records;
  return document(
    el(
      'fl:debtPositionsOutcome',
      { 'xmlns:fl': FLOWS_NS },
      el(
        'header',
        null,
        leaf('enteFiscalCode', header.enteFiscalCode),
        leaf('serviceCode', header.serviceCode),
        leaf('flowId', header.flowId),
        leaf('uploadId', header.uploadId),
        leaf('sourceFileName', header.sourceFileName),
        leaf('sourceSha256', header.sourceSha256),
        leaf('processedAt', header.processedAt),
        leaf('outcome', rejected ? 'KO' : 'OK'),
        leaf('errorCode', header.rejection?.code),
        optionalMessage('message', header.rejection?.message),
        rejected ? null : summaryNode(kept),
      ),
      ...kept.map(recordNode),
    ),
  );
}
