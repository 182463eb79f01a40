import type { Context } from '../../context.js';
import { InputError, tenantArchived, tenantLocked } from '../../errors.js';
import { ensureControlSchema } from '../../control/ensure.js';
import { readOperations } from '../../control/oplog.js';
import { readTenantRows } from '../../control/tenants.js';
import { holdTenantLock, releaseTenantLock, runTransaction, withSession } from '../../db/session.js';
import { migrateShared } from '../../migrate/shared.js';
import { findTenants } from '../../runtime/lookup.js';
import { tenantMigrations } from '../../runtime/migration-files.js';
import { homeContext, serverContext } from '../../runtime/servers.js';
import { archivedSchemaName } from '../remove.js';
import { ensureSharedRoleOnce, schemaNameFor, tenantSpecs } from '../provision.js';
import { archiveSource, purgeArchivedSource } from './archive.js';
import { clearLeftovers } from './leftovers.js';
import { appliedMigrations } from './migrations.js';
import { chooseMode, logicalBlockers } from './mode.js';
import { clearReplication, logicalMove } from './logical.js';
import { copyMove } from './move.js';
import { validateRelocateOptions, type RelocateOptions, type RelocateResult } from './options.js';
import { pauseAt } from './pause.js';
import { freezeSql, lockableTables, rowTables } from './tables.js';

export { validateRelocateOptions, type RelocateOptions, type RelocateResult, type RelocatedTable, type RelocateMode } from './options.js';

/**
 * `tenant relocate ID --to SERVER`. The placements map on the home server is
 * the truth of where a tenant lives; the move makes a whole copy on the
 * target, flips the map, and archives the source, in an order that leaves the
 * tenant wholly on one side whenever it stops (docs/relocate.md). The same
 * command run again after an interruption converges: a move that had flipped
 * finishes archiving the source; one that had not starts over, clearing the
 * target's leftovers first.
 */
export async function relocateTenant(ctx: Context, options: RelocateOptions): Promise<RelocateResult> {
  const started = performance.now();
  const home = homeContext(ctx);
  const opts = validateRelocateOptions(options, home.servers);
  const [tenant] = await findTenants(home, [opts.id]);
  if (tenant!.status === 'archived') throw tenantArchived(opts.id);
  if (tenant!.server === opts.to) return converge(home, opts, started);
  const sctx = serverContext(home, tenant!.server);
  const tctx = serverContext(home, opts.to);
  appliedMigrations(opts.id, tenant!.journal, await tenantMigrations(home));

  // The tenant's lock on its server for the whole move: migrate waits or skips it, another relocation is refused.
  return withSession(sctx.pool, async (lock) => {
    if (!(await holdTenantLock(lock, sctx.config, { id: opts.id, wait: false }))) throw tenantLocked(opts.id);
    try {
      // Read again under the lock: a run that finished just before may have moved or archived it.
      const [now] = await findTenants(home, [opts.id]);
      if (now!.status === 'archived') throw tenantArchived(opts.id);
      if (now!.server === opts.to) return await converge(home, opts, started);
      if (now!.server !== sctx.server)
        throw new InputError('tenant_moved', `tenant "${opts.id}" moved to "${now!.server}" meanwhile; nothing changed`);
      const [row] = await readTenantRows(sctx.pool, sctx, [opts.id]);
      const taken = await sctx.pool.query('SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1', [archivedSchemaName(row!.schema)]);
      if (taken.rowCount === 1)
        throw new InputError(
          'archive_taken',
          `schema "${archivedSchemaName(row!.schema)}" already exists on "${sctx.server}", where the source would be archived; drop or rename it first`,
        );
      const sourceTables = await rowTables(sctx.pool, row!.schema);
      const choice = chooseMode(opts.mode ?? 'auto', await logicalBlockers(sctx.pool, tctx.pool, sourceTables));
      const sourceUrl = home.servers.url(sctx.server);
      if (choice.mode === 'logical' && !sourceUrl)
        throw new InputError('logical_impossible', `the connection string of "${sctx.server}" is not known; use --mode copy`);
      if (choice.because) home.log.info(choice.because);
      await pauseAt(home, 'locked');

      await ensureControlSchema(tctx);
      await migrateShared(tctx);
      await ensureSharedRoleOnce(tctx.pool, tctx);
      const cleared = [...(await clearReplication(sctx, tctx, opts.id)), ...(await clearLeftovers(tctx, opts.id))];
      if (cleared.length > 0) home.log.info(`cleared what an earlier run left: ${cleared.join(', ')}`);
      await pauseAt(home, 'cleared');
      // The journal as read under the lock (the first read only refused a missing or changed file early).
      const structure = appliedMigrations(opts.id, now!.journal, await tenantMigrations(home));
      const [spec] = await tenantSpecs(tctx, [{ id: opts.id, key: now!.key, name: now!.name, config: now!.config }], structure);
      home.log.info(`relocating ${opts.id} from ${sctx.server} to ${opts.to} (${choice.mode} mode, ${sourceTables.length} tables)`);
      const input = { home, sctx, tctx, tenant: now!, spec: spec!, started, purgeSource: opts.purgeSource === true };
      const moved = choice.mode === 'logical' ? await logicalMove({ ...input, sourceUrl: sourceUrl! }) : await copyMove(input);
      return {
        tenant: opts.id,
        from: sctx.server,
        to: opts.to,
        mode: choice.mode,
        ...(choice.because ? { modeBecause: choice.because } : {}),
        tables: moved.tables,
        rows: moved.rows,
        bytes: moved.bytes,
        seconds: seconds(started),
        archivedSource: moved.archivedSource,
      };
    } finally {
      await releaseTenantLock(lock);
    }
  });
}

/**
 * The tenant already lives on the target. When the last relocation to here
 * left its source unarchived (it stopped between the flip and the source's
 * commit), that copy is archived now (and purged with --purge-source), and
 * what a logical move left replicating is dropped: the run is a success;
 * otherwise there is nothing to move (exit 2).
 */
async function converge(home: Context, opts: RelocateOptions, started: number): Promise<RelocateResult> {
  const last = (await readOperations(home, opts.id)).filter((o) => o.operation === 'relocate').at(-1);
  const from = typeof last?.detail.from === 'string' ? last.detail.from : undefined;
  if (!last || last.detail.to !== opts.to || from === undefined || from === opts.to || !home.servers.has(from)) throw alreadyThere(opts);
  const sctx = serverContext(home, from);
  // A logical move that stopped after its switch may have left its subscription and slot (which keeps WAL on the source).
  const replication = last.detail.mode === 'logical' ? await clearReplication(sctx, serverContext(home, opts.to), opts.id) : [];
  if (replication.length > 0) home.log.info(`cleared what an earlier run left: ${replication.join(', ')}`);
  const archived = await withSession(sctx.pool, async (client) => {
    if (!(await holdTenantLock(client, sctx.config, { id: opts.id, wait: false }))) throw tenantLocked(opts.id);
    try {
      const [row] = await readTenantRows(client, sctx, [opts.id]);
      if (!row || row.status === 'archived' || row.schema !== schemaNameFor(sctx.config, opts.id)) return undefined;
      return await runTransaction(client, sctx.config, { keepSession: true }, async () => {
        const lockable = await lockableTables(client, row.schema);
        const freeze = freezeSql(row.schema, lockable);
        if (freeze) await client.query(freeze);
        const tables = await rowTables(client, row.schema);
        return archiveSource(client, sctx, row, opts.to, { writable: lockable, truncatable: tables.map((t) => t.name) });
      });
    } finally {
      await releaseTenantLock(client);
    }
  });
  if (archived === undefined && replication.length === 0) throw alreadyThere(opts);
  if (archived !== undefined) home.log.info(`${opts.id} was already on ${opts.to}; archived its copy left on ${from} as ${archived}`);
  let archivedSource: string | null = archived ?? (typeof last.detail.archivedSchema === 'string' ? last.detail.archivedSchema : null);
  if (opts.purgeSource && archived !== undefined) {
    const [row] = await readTenantRows(sctx.pool, sctx, [opts.id]);
    await withSession(sctx.pool, (c) =>
      runTransaction(c, sctx.config, {}, () => purgeArchivedSource(c, sctx, { id: opts.id, archived, role: row?.role ?? null })),
    );
    archivedSource = null;
  }
  return {
    tenant: opts.id,
    from,
    to: opts.to,
    mode: last.detail.mode === 'logical' ? 'logical' : 'copy',
    tables: [],
    rows: 0,
    bytes: 0,
    seconds: seconds(started),
    archivedSource,
    converged: true,
  };
}

function alreadyThere(opts: RelocateOptions): InputError {
  return new InputError('already_there', `tenant "${opts.id}" is already on server "${opts.to}"; nothing to move`, {
    id: opts.id,
    server: opts.to,
  });
}

function seconds(started: number): number {
  return Number(((performance.now() - started) / 1000).toFixed(3));
}
