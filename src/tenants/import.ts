import { join, resolve } from 'node:path';
import type { Context } from '../context.js';
import { InputError, RunFailure, tenantExists, usage } from '../errors.js';
import { assertServerName, unknownServer } from '../db/servers.js';
import { makeElsewhere } from './create-elsewhere.js';
import { controlReady, ensureControlSchema } from '../control/ensure.js';
import { readTenantRows } from '../control/tenants.js';
import { countRows, totalRows } from './row-counts.js';
import { recordAppliedSql } from '../control/journal.js';
import { logOperationSql, readOperations } from '../control/oplog.js';
import { asCatalog, asTenantSql, runTransaction, withSession } from '../db/session.js';
import type { PoolClient } from '../db/types.js';
import { readCatalog, type SchemaCatalog } from '../copy/catalog.js';
import { insertOrder } from '../copy/graph.js';
import { MigrationFailure, runMigrationActions } from '../migrations/builder.js';
import type { LoadedMigration } from '../migrations/types.js';
import { migrateShared } from '../migrate/shared.js';
import { revokePublicSql } from '../roles/grants.js';
import { assertTenantId, assertText } from '../runtime/ids.js';
import { tenantMigrations } from '../runtime/migration-files.js';
import { ident, qualified } from '../util/quote.js';
import { readManifest, type Manifest } from './archive-format.js';
import { setSequencesSql } from './export-catalog.js';
import { copyInSql, copyTableIn, copyText, rewriteField } from './export-data.js';
import { deferrable, dropSql, restoreSql } from './import-constraints.js';
import { assertDataFiles, assertSameStructure, exportMigrations } from './import-check.js';
import {
  buildTenant,
  checkAbsent,
  ensureSharedRoleOnce,
  provisioningMessage,
  registerSql,
  tenantSpecs,
  type TenantSpec,
} from './provision.js';

/**
 * `tenant import`: a new tenant from an export, in one transaction. It is
 * provisioned as create makes tenants, at the export's version (its migrations
 * must be on disk, unchanged); its rows are COPY-streamed in, parents first,
 * with the ownership column rewritten to the new key and every data file's
 * sha256 and row count checked (primary keys, unique constraints, plain
 * indexes and foreign keys are made again after the rows, as pg_restore does); its sequences are set to the exported values
 * (and past the largest imported value); then the migrations after that
 * version bring it to the head. Any failure leaves nothing behind.
 */
export interface ImportOptions {
  /** The export folder. */
  path: string;
  /** The new tenant's id. */
  as: string;
  /** The new tenant's key (default: its id). */
  key?: string;
  /** The server to make it on: a name from the config's `servers`; default the home server ("default"). */
  server?: string;
}

export interface ImportResult {
  tenant: string;
  schema: string;
  key: string;
  from: { tenant: string; key: string; version: string | null };
  /** Migrations the structure was rebuilt with (the export's version), then those applied after the rows. */
  restored: string[];
  applied: string[];
  tables: { table: string; rows: number }[];
  rows: number;
  seconds: number;
  /** The server it was made on, when not the home server. */
  server?: string;
  /** Made on that server by an earlier run of the same import that was interrupted before the map recorded it: recorded now, left as it is. */
  adopted?: boolean;
}

/** Checks import's options and the export's manifest without a database: exit 2 for anything wrong. */
export function validateImportOptions(options: ImportOptions): Manifest {
  if (!options.path) throw usage('tenant import needs the PATH of an export');
  if (!options.as) throw usage("tenant import needs --as ID, the new tenant's id");
  assertTenantId(options.as);
  if (options.key !== undefined && options.key.trim().length === 0) throw usage('--key must not be empty');
  if (options.key !== undefined) assertText('--key', options.key);
  if (options.server !== undefined) assertServerName(options.server);
  const manifest = readManifest(options.path);
  if (manifest.dataFormat !== 'native') {
    throw new InputError(
      'export_not_importable',
      `${options.path} was exported with --format ${manifest.dataFormat}, for people and other tools; import reads --format native exports`,
    );
  }
  assertDataFiles(options.path, manifest);
  return manifest;
}

export async function importTenant(ctx: Context, options: ImportOptions): Promise<ImportResult> {
  const started = performance.now();
  const manifest = validateImportOptions(options);
  if (options.server !== undefined && options.server !== ctx.server) {
    // On another server: through the one path that makes tenants there (home checks and locks, that server's import, the placement).
    const server = options.server;
    if (!ctx.servers.has(server)) throw unknownServer(server, ctx.servers.names());
    const key = options.key ?? options.as;
    const r = await makeElsewhere(
      ctx,
      server,
      [{ id: options.as, key }],
      async (sctx) =>
        (await importedBefore(sctx, options.as, key, manifest, started)) ?? importTenant(sctx, { ...options, server: undefined }),
      (made) => [{ id: made.tenant, key: made.key }],
    );
    return { ...r, server };
  }
  const path = resolve(options.path);
  const { restore, pending } = exportMigrations(manifest, await tenantMigrations(ctx));
  await ensureControlSchema(ctx);
  await migrateShared(ctx);
  const [spec] = await tenantSpecs(
    ctx,
    [{ id: options.as, key: options.key, name: manifest.tenant.name, config: manifest.tenant.config ?? {} }],
    restore,
  );
  if ((await checkAbsent(ctx.pool, ctx, [spec!])).size > 0) throw tenantExists(options.as);
  await ensureSharedRoleOnce(ctx.pool, ctx);
  const loaded = await withSession(ctx.pool, (client) =>
    runTransaction(client, ctx.config, { lock: { ids: [options.as], wait: true }, prelude: [registerSql(ctx, spec!)] }, async (tx) => {
      if (tx.prelude[0]?.rowCount !== 1) throw tenantExists(options.as);
      await provision(client, ctx, spec!);
      await asCatalog(client);
      const catalog = await readCatalog(client, spec!.schema);
      assertSameStructure(manifest, catalog);
      const deferred = await deferrable(client, spec!.schema, { keys: true });
      const drop = dropSql(spec!.schema, deferred);
      if (drop) await client.query(drop);
      await client.query(asTenantSql(ctx.config, { schema: spec!.schema, id: spec!.id, key: spec!.key }));
      const tables = await loadRows(client, ctx, manifest, path, catalog, spec!);
      const again = restoreSql(spec!.schema, deferred);
      if (again) await client.query(again);
      const seq = setSequencesSql(spec!.schema, manifest.sequences);
      if (seq) await client.query(seq);
      await advancePastRows(client, catalog);
      await bringToHead(client, ctx, spec!, pending);
      tx.last(
        logOperationSql(ctx, 'import', spec!.id, {
          from: manifest.tenant.id,
          exportedAt: manifest.exportedAt,
          schema: spec!.schema,
          key: spec!.key,
          restored: restore.length,
          applied: pending.length,
          rows: tables.reduce((n, t) => n + t.rows, 0),
        }),
      );
      return tables;
    }),
  );
  return {
    tenant: spec!.id,
    schema: spec!.schema,
    key: spec!.key,
    from: { tenant: manifest.tenant.id, key: manifest.tenant.key, version: manifest.migrations.at(-1)?.name ?? null },
    restored: restore.map((m) => m.name),
    applied: pending.map((m) => m.name),
    tables: loaded,
    rows: loaded.reduce((n, t) => n + t.rows, 0),
    seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
  };
}

/**
 * On another server, under the id's lock on the home server: the tenant an
 * earlier run of this same import made there before it was killed (before the
 * placements map recorded it), adopted as it is; undefined when there is none.
 * Same import: its last logged operation is the import of this export
 * (`from`, `exportedAt`) with this key. Anything else under that id there is
 * refused by the import itself (`tenant_exists`).
 */
async function importedBefore(
  sctx: Context,
  id: string,
  key: string,
  manifest: Manifest,
  started: number,
): Promise<ImportResult | undefined> {
  if (!(await controlReady(sctx))) return undefined;
  const [row] = await readTenantRows(sctx.pool, sctx, [id]);
  if (!row || row.key !== key || row.status === 'archived') return undefined;
  const last = (await readOperations(sctx, id)).at(-1);
  if (last?.operation !== 'import' || last.detail.from !== manifest.tenant.id || last.detail.exportedAt !== manifest.exportedAt)
    return undefined;
  const counts = await withSession(sctx.pool, (client) => countRows(client, row.schema));
  const tables = Object.entries(counts).map(([table, rows]) => ({ table, rows }));
  return {
    tenant: id,
    schema: row.schema,
    key,
    from: { tenant: manifest.tenant.id, key: manifest.tenant.key, version: manifest.migrations.at(-1)?.name ?? null },
    restored: [],
    applied: [],
    tables,
    rows: totalRows(counts),
    seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    adopted: true,
  };
}

async function provision(client: PoolClient, ctx: Context, spec: TenantSpec): Promise<void> {
  try {
    await buildTenant(client, ctx, spec, { defer: false });
  } catch (err) {
    const message = provisioningMessage(err, spec);
    if (message) throw new InputError('role_exists', message);
    throw err instanceof MigrationFailure ? err.cause : err;
  }
}

/** Every table's rows, parents first; the data file's sha256 and row count must be the manifest's. */
async function loadRows(
  client: PoolClient,
  ctx: Context,
  manifest: Manifest,
  path: string,
  catalog: SchemaCatalog,
  spec: TenantSpec,
): Promise<{ table: string; rows: number }[]> {
  const byName = new Map(manifest.tables.map((t) => [t.name, t]));
  const edges = [...catalog.tables.values()].flatMap((t) => t.foreignKeys.map((f) => ({ child: f.table, parent: f.refTable })));
  const order = insertOrder([...byName.keys()], edges).flatMap((g) => g.tables);
  const done: { table: string; rows: number }[] = [];
  for (const [i, name] of order.entries()) {
    const t = byName.get(name)!;
    const at = t.dataColumns.indexOf(ctx.config.ownershipColumn);
    const rewrite = at >= 0 ? rewriteField(at, copyText(spec.key)) : undefined;
    const r = await copyTableIn(client, copyInSql(spec.schema, t.name, t.dataColumns), join(path, t.file), rewrite);
    if (r.sha256 !== t.sha256)
      throw new InputError(
        'export_corrupt',
        `${join(path, t.file)} (table ${t.name}) does not match the manifest's sha256: the export is damaged; nothing was imported`,
        { table: t.name },
      );
    if (r.rows !== t.rows)
      throw new InputError(
        'export_corrupt',
        `${join(path, t.file)} (table ${t.name}) loaded ${r.rows} rows, the manifest says ${t.rows}; nothing was imported`,
        { table: t.name },
      );
    done.push({ table: t.name, rows: r.rows });
    ctx.onProgress?.({ id: t.name, status: `${r.rows} rows`, done: i + 1, failed: 0, total: order.length });
  }
  return done;
}

/** Sequences that feed a column are moved past its largest value (smallest, descending), as a copy does. */
export async function advancePastRows(client: PoolClient, catalog: SchemaCatalog): Promise<void> {
  const parts: string[] = [];
  for (const t of catalog.tables.values()) {
    for (const c of t.columns) {
      const s = c.sequence;
      if (!s || c.generated) continue;
      const up = s.increment > 0;
      parts.push(`SELECT pg_catalog.setval(${s.oid}::regclass, x.v) FROM (SELECT ${up ? 'max' : 'min'}(t.${ident(c.name)})::bigint AS v FROM ${qualified(catalog.schema, t.name)} t) x, ${qualified(s.schema, s.name)} q
        WHERE x.v IS NOT NULL AND x.v ${up ? '>=' : '<='} CASE WHEN q.is_called THEN q.last_value + ${s.increment} ELSE q.last_value END`);
    }
  }
  if (parts.length > 0) await client.query(parts.join(';\n'));
}

/** The migrations after the export's version, with the rows in place, and their journal entries. */
async function bringToHead(client: PoolClient, ctx: Context, spec: TenantSpec, pending: readonly LoadedMigration[]): Promise<void> {
  if (pending.length === 0) return;
  try {
    await runMigrationActions(client, pending, 'up', ctx.log, {
      prologue: asTenantSql(ctx.config, { schema: spec.schema, id: spec.id, key: spec.key }),
      epilogue: spec.role ? revokePublicSql(spec.schema) : '',
    });
  } catch (err) {
    const failure = err instanceof MigrationFailure ? err : new MigrationFailure(undefined, err);
    throw new RunFailure(
      'migration_failed',
      `the imported rows are at ${spec.migrations.at(-1)?.name ?? 'no migration'}; ${failure.migration ?? 'a later migration'} failed on them: ${(failure.cause as Error)?.message ?? failure.message}; nothing was imported`,
    );
  }
  await client.query(recordAppliedSql(ctx, spec.id, pending));
}
