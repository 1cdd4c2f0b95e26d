// The portal's Excel uploads, read from the importer's table: the imports whose options carry the
// portal's mark (`"portalUpload":{…}`, written with the row before the file is claimed, see
// src/app/portal/excelUpload.ts), newest first, scoped to the enti a user may see.

import type { Db } from '../knex.ts';
import { toInt } from '../rows.ts';

export interface PortalUploadRow {
  id: string;
  enteId: number;
  enteFiscalCode: string;
  enteName: string;
  fileName: string;
  /** The import's options (JSON as given), with the portal's mark. */
  options: unknown;
  status: string;
  result: string | null;
  okCount: number;
  warnCount: number;
  koCount: number;
  errorCode: string | null;
  createdAt: string;
  finishedAt: string | null;
}

interface Row {
  id: string;
  ente_id: number | string;
  fiscal_code: string;
  name: string;
  file_name: string;
  options: string | null;
  status: string;
  result: string | null;
  ok_count: number | string;
  warn_count: number | string;
  ko_count: number | string;
  error_code: string | null;
  created_at: string;
  finished_at: string | null;
}

/** JSON.stringify writes the mark's key exactly so; no other import option is an object. */
const MARK = '%"portalUpload":{%';

function toUpload(row: Row): PortalUploadRow {
  return {
    id: row.id,
    enteId: toInt(row.ente_id),
    enteFiscalCode: row.fiscal_code,
    enteName: row.name,
    fileName: row.file_name,
    options: row.options === null ? null : (JSON.parse(row.options) as unknown),
    status: row.status,
    result: row.result,
    okCount: toInt(row.ok_count),
    warnCount: toInt(row.warn_count),
    koCount: toInt(row.ko_count),
    errorCode: row.error_code,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}

export function createPortalUploadsRepository(db: Db) {
  return {
    /** The latest portal uploads of these enti (null: of every ente), newest first. */
    async list(enteIds: readonly number[] | null, limit = 50): Promise<PortalUploadRow[]> {
      if (enteIds !== null && enteIds.length === 0) return [];
      const query = db('imports as i')
        .join('enti as e', 'e.id', 'i.ente_id')
        .where('i.options', 'like', MARK)
        .select(
          'i.id',
          'i.ente_id',
          'e.fiscal_code',
          'e.name',
          'i.file_name',
          'i.options',
          'i.status',
          'i.result',
          'i.ok_count',
          'i.warn_count',
          'i.ko_count',
          'i.error_code',
          'i.created_at',
          'i.finished_at',
        )
        .orderBy([
          { column: 'i.created_at', order: 'desc' },
          { column: 'i.id', order: 'desc' },
        ])
        .limit(limit);
      if (enteIds !== null) void query.whereIn('i.ente_id', enteIds);
      const rows: Row[] = await query;
      return rows.map(toUpload);
    },
  };
}

export type PortalUploadsRepository = ReturnType<typeof createPortalUploadsRepository>;
