import { mkdirSync, readdirSync, renameSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Context } from '../context.js';
import { InputError, tenantGoneMeanwhile, tenantLocked, usage } from '../errors.js';
import { readTenants } from '../control/tenants.js';
import { inTransaction, withSession } from '../db/session.js';
import { readCatalog } from '../copy/catalog.js';
import { assertTenantId } from '../runtime/ids.js';
import { findTenants } from '../runtime/lookup.js';
import { contextOf } from '../runtime/route.js';
import { assertNotArchived } from '../runtime/usable-tenants.js';
import {
  DATA_FORMATS,
  EXPORT_FORMAT,
  EXPORT_FORMAT_VERSION,
  MANIFEST,
  dataFileName,
  type DataFormat,
  type Manifest,
  type ManifestTable,
} from './archive-format.js';
import { partitionedTables, sequenceValues } from './export-catalog.js';
import { copyOutSql, copyTableOut } from './export-data.js';

/**
 * `tenant export`: one consistent snapshot of a tenant (a read-only REPEATABLE
 * READ transaction, taken once the tenant's lock is held, so no migration or
 * copy is halfway through it) written to a new folder: the manifest and every
 * table's rows, COPY-streamed to files. The folder appears whole or not at
 * all: it is written beside the target and renamed at the end.
 */
export interface ExportOptions {
  tenant: string;
  out: string;
  /** native (default: COPY text, what import loads), csv or jsonl (for people and other tools). */
  format?: DataFormat;
}

export interface ExportResult {
  tenant: string;
  path: string;
  format: DataFormat;
  /** The last applied migration: the tenant's version. */
  version: string | null;
  tables: { table: string; rows: number; bytes: number }[];
  rows: number;
  bytes: number;
  seconds: number;
}

export function validateExportOptions(options: ExportOptions): { format: DataFormat; out: string } {
  assertTenantId(options.tenant);
  if (!options.out || options.out.trim() === '') throw usage('tenant export needs --out PATH, a folder that does not exist yet');
  const format = options.format ?? 'native';
  if (!(DATA_FORMATS as readonly string[]).includes(format))
    throw usage(`--format must be one of ${DATA_FORMATS.join(', ')}, got "${format}"`);
  const out = resolve(options.out);
  let exists = false;
  try {
    const st = statSync(out);
    exists = !st.isDirectory() || readdirSync(out).length > 0;
  } catch {
    // absent: what we want
  }
  if (exists)
    throw new InputError('output_exists', `${options.out} already exists and is not an empty folder; pick a new path or remove it`, {
      path: options.out,
    });
  return { format, out };
}

export async function exportTenant(home: Context, options: ExportOptions): Promise<ExportResult> {
  const started = performance.now();
  const { format, out } = validateExportOptions(options);
  const [found] = await findTenants(home, [options.tenant]);
  assertNotArchived(found!);
  // From the server the tenant lives on (the placements map).
  const ctx = contextOf(home, found!);
  const partial = `${out}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(join(partial, 'data'), { recursive: true });
  try {
    const manifest = await withSession(ctx.pool, async (client) => {
      const outcome = await inTransaction(
        client,
        ctx.config,
        {
          isolation: 'repeatable read',
          readOnly: true,
          lock: { ids: [options.tenant], session: true },
          prelude: ['SET LOCAL search_path = pg_catalog', 'SHOW server_version'],
        },
        async (tx): Promise<Manifest> => {
          tx.rollbackOnly();
          const [t] = await readTenants(client, ctx, { ids: [options.tenant] });
          if (!t || t.status === 'archived') throw tenantGoneMeanwhile(options.tenant);
          const catalog = await readCatalog(client, t.schema);
          const partitioned = await partitionedTables(client, t.schema);
          const sequences = await sequenceValues(client, t.schema);
          const tables: ManifestTable[] = [];
          const list = [...catalog.tables.values()];
          for (const [i, table] of list.entries()) {
            const dataColumns = (format === 'native' ? table.columns.filter((c) => !c.generated) : table.columns).map((c) => c.name);
            const file = dataFileName(table.name, i, format);
            const copied = await copyTableOut(
              client,
              copyOutSql(t.schema, table.name, dataColumns, format, partitioned.has(table.name)),
              join(partial, file),
            );
            tables.push({
              name: table.name,
              columns: table.columns.map((c) => ({ name: c.name, type: c.type, generated: c.generated, identity: c.identity })),
              dataColumns,
              file,
              ...copied,
            });
            ctx.onProgress?.({ id: table.name, status: `${copied.rows} rows`, done: i + 1, failed: 0, total: list.length });
          }
          return {
            format: EXPORT_FORMAT,
            formatVersion: EXPORT_FORMAT_VERSION,
            dataFormat: format,
            exportedAt: new Date().toISOString(),
            server: { version: String(tx.prelude[1]?.rows[0]?.server_version ?? '') },
            tenant: {
              id: t.id,
              key: t.key,
              name: t.name,
              status: t.status,
              config: t.config,
              schema: t.schema,
              createdAt: new Date(t.createdAt).toISOString(),
            },
            ownershipColumn: ctx.config.ownershipColumn,
            migrations: t.journal.map((j) => ({ name: j.name, checksum: j.checksum })),
            tables,
            sequences,
            rows: tables.reduce((n, x) => n + x.rows, 0),
          };
        },
      );
      if (outcome.locked) throw tenantLocked(outcome.id);
      return outcome.value;
    });
    writeFileSync(join(partial, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, { flag: 'wx' });
    try {
      rmdirSync(out);
    } catch {
      // not there: fine
    }
    renameSync(partial, out);
    return {
      tenant: options.tenant,
      path: out,
      format,
      version: manifest.migrations.at(-1)?.name ?? null,
      tables: manifest.tables.map((x) => ({ table: x.name, rows: x.rows, bytes: x.bytes })),
      rows: manifest.rows,
      bytes: manifest.tables.reduce((n, x) => n + x.bytes, 0),
      seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    };
  } catch (err) {
    rmSync(partial, { recursive: true, force: true });
    throw err;
  }
}
