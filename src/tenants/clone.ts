import type { Context } from '../context.js';
import { assertTenantId } from '../runtime/ids.js';
import { findTenants } from '../runtime/lookup.js';
import { makeElsewhere } from './create-elsewhere.js';
import { tenantMigrations } from '../runtime/migration-files.js';
import { controlReady, ensureControlSchema } from '../control/ensure.js';
import { readTenantRows, readTenants, type TenantWithJournal } from '../control/tenants.js';
import { logOperationSql, readOperations } from '../control/oplog.js';
import { withSession } from '../db/session.js';
import { countRows, totalRows } from './row-counts.js';
import { InputError, tenantExists, usage } from '../errors.js';
import { MigrationFailure } from '../migrations/builder.js';
import type { LoadedMigration } from '../migrations/types.js';
import { readCatalog } from '../copy/catalog.js';
import { sourceCounts } from '../copy/counts.js';
import { executePlan } from '../copy/execute.js';
import { asFailure } from '../copy/failure.js';
import { planTransfer } from '../copy/plan.js';
import { assertNotArchived, usableTenants } from '../runtime/usable-tenants.js';
import { catalogPath, inTransferSnapshot } from '../copy/snapshot.js';
import { cycles } from '../copy/transfer.js';
import type { TransferResult } from '../copy/types.js';
import { buildTenant, checkAbsent, ensureSharedRoleOnce, provisioningMessage, registerSql, tenantSpecs } from './provision.js';
import { assertText } from '../runtime/ids.js';

export interface CloneOptions {
  /** The tenant to clone. */
  from: string;
  /** The new tenant's id. */
  to: string;
  /** Structure only: no rows. */
  schemaOnly?: boolean;
  /** The new tenant's key (default: its id). */
  key?: string;
  /** The new tenant's display name. */
  name?: string;
  dryRun?: boolean;
}

export interface CloneResult extends TransferResult {
  schema: string;
  schemaOnly: boolean;
  /** The migrations applied to the new tenant: exactly the source's. */
  migrations: string[];
  /** The server both tenants are on, when not the home server. */
  server?: string;
  /** Made on that server by an earlier run of the same clone that was interrupted before the map recorded it: recorded now, left as it is. */
  adopted?: boolean;
}

/**
 * A new tenant at the source's migration version: registry row, schema, role
 * (as create makes them), the source's applied migrations and no others,
 * then, unless schemaOnly, a copy of every row with the ownership column
 * rewritten and sequences advanced. One transaction: the clone exists whole
 * or not at all. The new tenant keeps the source's config.
 */
/** Checks clone's options without a database: exit 2 for anything wrong. */
export function validateCloneOptions(options: CloneOptions): void {
  assertTenantId(options.from);
  assertTenantId(options.to);
  if (options.from === options.to) throw new InputError('same_tenant', `cannot clone "${options.from}" onto itself; name a new tenant id`);
  if (options.key !== undefined && options.key.trim().length === 0) throw usage('--key must not be empty');
  if (options.key !== undefined) assertText('--key', options.key);
  if (options.name !== undefined) assertText('--name', options.name);
}

/**
 * The new tenant is made on the source's server (the placements map), by the
 * same single-server clone; for a source on another server, through the one
 * path that makes tenants there (home checks and locks first, the placement
 * last, see makeElsewhere).
 */
export async function cloneTenant(ctx: Context, options: CloneOptions): Promise<CloneResult> {
  const started = performance.now();
  validateCloneOptions(options);
  const [src] = await findTenants(ctx, [options.from]);
  assertNotArchived(src!);
  if (src!.server === ctx.server) return cloneHere(ctx, options, src!, started);
  const key = options.key ?? options.to;
  return makeElsewhere(
    ctx,
    src!.server,
    [{ id: options.to, key }],
    async (sctx) => ({
      ...((options.dryRun ? undefined : await clonedBefore(sctx, options, key, started)) ??
        (await cloneHere(sctx, options, src!, started))),
      server: src!.server,
    }),
    (r) => (r.status === 'cloned' ? [{ id: options.to, key }] : []),
  );
}

/**
 * On another server, under the id's lock on the home server: the tenant an
 * earlier run of this same clone made there before it was killed (before the
 * placements map recorded it), adopted as it is; undefined when there is none.
 * Same clone: its last logged operation is the target side of a clone of this
 * source with this key. Anything else under that id is refused by the clone itself.
 */
async function clonedBefore(sctx: Context, options: CloneOptions, key: string, started: number): Promise<CloneResult | undefined> {
  if (!(await controlReady(sctx))) return undefined;
  const [row] = await readTenantRows(sctx.pool, sctx, [options.to]);
  if (!row || row.key !== key || row.status === 'archived') return undefined;
  const last = (await readOperations(sctx, options.to)).at(-1);
  if (last?.operation !== 'clone' || last.detail.side !== 'target' || last.detail.from !== options.from) return undefined;
  const counts = await withSession(sctx.pool, (client) => countRows(client, row.schema));
  const tables = Object.entries(counts).map(([table, rows]) => ({ table, rows }));
  return {
    operation: 'clone',
    status: 'cloned',
    from: options.from,
    to: options.to,
    dryRun: false,
    onConflict: 'error',
    remapKeys: false,
    schema: row.schema,
    schemaOnly: last.detail.schemaOnly === true,
    migrations: [],
    tables,
    rows: totalRows(counts),
    cycles: [],
    stats: { seconds: Number(((performance.now() - started) / 1000).toFixed(3)) },
    adopted: true,
  };
}

async function cloneHere(ctx: Context, options: CloneOptions, src: TenantWithJournal, started: number): Promise<CloneResult> {
  const files = await tenantMigrations(ctx);
  if (!options.dryRun) await ensureControlSchema(ctx);
  const [spec0] = await tenantSpecs(
    ctx,
    [{ id: options.to, key: options.key, name: options.name ?? null, config: { from: options.from } }],
    [],
  );
  if ((await checkAbsent(ctx.pool, ctx, [spec0!])).size > 0) throw tenantExists(options.to);
  sourceMigrations(src, files.list, files.dir);
  if (!options.dryRun) await ensureSharedRoleOnce(ctx.pool, ctx);
  const schema = spec0!.schema;
  const schemaOnly = options.schemaOnly ?? false;
  const key = spec0!.key;
  const base = {
    operation: 'clone' as const,
    from: options.from,
    to: options.to,
    dryRun: options.dryRun ?? false,
    onConflict: 'error' as const,
    remapKeys: false,
  };
  const seconds = () => ({ seconds: Number(((performance.now() - started) / 1000).toFixed(3)) });

  try {
    return await inTransferSnapshot(ctx, options.dryRun ? [] : [options.from, options.to], async (tx) => {
      const client = tx.client;
      const [source] = await usableTenants(client, ctx, [options.from]);
      // The source's journal as it is now, under its lock: a migrate may have finished meanwhile.
      const [now] = await readTenants(client, ctx, { ids: [options.from] });
      const { migrations, changed } = sourceMigrations(now!, files.list, files.dir);
      if (changed.length > 0)
        ctx.log.warn(
          `migration file${changed.length === 1 ? '' : 's'} changed since "${options.from}" applied ${changed.length === 1 ? 'it' : 'them'}: ${changed.join(', ')}`,
        );
      const extra = { schema, schemaOnly, migrations: migrations.map((m) => m.name) };
      if (options.dryRun) {
        const catalog = await readCatalog(client, source!.schema);
        const plan = planTransfer(catalog, catalog, {
          tables: undefined,
          onConflict: 'error',
          remapKeys: false,
          from: options.from,
          to: options.from,
          move: false,
          ownershipColumn: ctx.config.ownershipColumn,
        });
        const counts = schemaOnly ? new Map<string, number>() : await sourceCounts(client, plan);
        tx.rollbackOnly();
        const tables = plan.scope.map((table) => ({ table, rows: counts.get(table) ?? 0 }));
        return {
          ...base,
          ...extra,
          status: 'planned',
          tables,
          rows: tables.reduce((a, t) => a + t.rows, 0),
          cycles: cycles(plan),
          stats: seconds(),
        };
      }
      const spec = { ...spec0!, migrations };
      const inserted = await client.query(registerSql(ctx, spec));
      if (inserted.rowCount === 0) throw tenantExists(options.to);
      try {
        await buildTenant(client, ctx, spec, { defer: false });
      } catch (err) {
        const message = provisioningMessage(err, spec);
        if (message) throw new InputError('role_exists', message);
        throw err instanceof MigrationFailure ? err.cause : err;
      }
      await catalogPath(client);
      const plan = planTransfer(await readCatalog(client, source!.schema), await readCatalog(client, schema), {
        tables: undefined,
        onConflict: 'error',
        remapKeys: false,
        from: options.from,
        to: options.to,
        move: false,
        ownershipColumn: ctx.config.ownershipColumn,
      });
      const run = schemaOnly
        ? { tables: plan.scope.map((table) => ({ table, rows: 0 })), rows: 0 }
        : await executePlan(client, ctx, plan, {
            move: false,
            onConflict: 'error',
            dryRun: false,
            source: source!,
            target: { id: options.to, schema, key },
          });
      const result: CloneResult = {
        ...base,
        ...extra,
        status: 'cloned',
        tables: run.tables,
        rows: run.rows,
        cycles: cycles(plan),
        stats: seconds(),
      };
      const detail = {
        from: options.from,
        to: options.to,
        schema,
        role: spec.role,
        key,
        schemaOnly,
        migrations: migrations.length,
        tables: run.tables,
        rows: run.rows,
      };
      tx.last(logOperationSql(ctx, 'clone', options.from, { ...detail, side: 'source' }));
      tx.last(logOperationSql(ctx, 'clone', options.to, { ...detail, side: 'target' }));
      return result;
    });
  } catch (err) {
    const failure = asFailure(err);
    return {
      ...base,
      schema,
      schemaOnly,
      migrations: [],
      status: 'failed',
      tables: [],
      rows: 0,
      cycles: [],
      error: { code: failure.code, message: failure.message },
      stats: seconds(),
    };
  }
}

/** The files of the source's applied migrations, in file order (every one must still be on disk), and those changed since. */
function sourceMigrations(
  src: { id: string; journal: { name: string; checksum: string }[] },
  files: readonly LoadedMigration[],
  dir: string,
): { migrations: LoadedMigration[]; changed: string[] } {
  const byName = new Map(files.map((f) => [f.name, f]));
  const missing = src.journal.filter((j) => !byName.has(j.name)).map((j) => j.name);
  if (missing.length > 0) {
    throw new InputError(
      'migration_missing',
      `tenant "${src.id}" has applied ${missing.join(', ')}, missing from ${dir}; cannot rebuild its structure without the file${missing.length === 1 ? '' : 's'}`,
    );
  }
  const changed = src.journal.filter((j) => byName.get(j.name)!.checksum !== j.checksum).map((j) => j.name);
  const applied = new Set(src.journal.map((j) => j.name));
  return { migrations: files.filter((f) => applied.has(f.name)), changed };
}
