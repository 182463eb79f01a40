import type { Context } from '../context.js';
import { logOperation } from '../control/oplog.js';
import { withSession } from '../db/session.js';
import { InputError, RunFailure, toTenantctlError } from '../errors.js';
import { findTenants } from '../runtime/lookup.js';
import { requireCitus } from './detect.js';
import { readPlacements, tablesWithoutReplicaIdentity } from './placement.js';
import { citusRefusal } from './refusals.js';
import { every, moveProgress } from './progress.js';

export interface RebalanceOnCitusOptions {
  /** Block writes to each moving tenant for its whole copy instead of moving online. */
  blockWrites?: boolean;
  /** While the rebalance runs: the moves under way, every `progressEveryMs` (default 1000). */
  onProgress?: (progress: RebalanceProgress) => void;
  progressEveryMs?: number;
}

export interface RebalanceProgress {
  /** Tenants (schemas) being moved right now, with bytes copied of their size. */
  moving: { schema: string; copiedBytes: number; totalBytes: number }[];
  seconds: number;
}

export interface RebalanceOnCitusResult {
  /** Citus's background job id; null when the cluster was balanced already. */
  jobId: number | null;
  mode: 'online' | 'block_writes';
  moved: { id: string; from: { host: string; port: number }; to: { host: string; port: number } }[];
  seconds: number;
}

/**
 * Evens out the tenants over the workers with Citus's rebalancer
 * (citus_rebalance_start, then citus_rebalance_wait), which moves whole
 * distributed schemas as citus_schema_move does: online by default, or with
 * `blockWrites`. Online, a tenant table with neither a primary key nor a
 * replica identity is refused before anything moves (exit 2, the tables named).
 * The tenants that moved come back and are logged (one `relocate` entry each,
 * with the job id). Tenant locks are not taken: a migrate running meanwhile
 * waits on Citus's own locks of the moving tables.
 */
export async function rebalanceOnCitus(ctx: Context, options: RebalanceOnCitusOptions = {}): Promise<RebalanceOnCitusResult> {
  await requireCitus(ctx, 'tenant rebalance');
  const mode = options.blockWrites ? 'block_writes' : 'online';
  const tenants = (await findTenants(ctx, undefined)).filter((t) => t.server === ctx.server);
  const schemas = tenants.map((t) => t.schema);
  if (mode === 'online') {
    const tables = await tablesWithoutReplicaIdentity(ctx.pool, schemas);
    if (tables.length > 0)
      throw new InputError(
        'no_replica_identity',
        `the fleet cannot be rebalanced online: ${tables.join(', ')} ${tables.length === 1 ? 'has' : 'have'} no primary key or replica identity; add one (or ALTER TABLE ... REPLICA IDENTITY FULL) in a migration, or rebalance with --block-writes; nothing was moved`,
        { tables },
      );
  }
  const before = await readPlacements(ctx.pool, schemas);
  const started = Date.now();
  let jobId: number | null = null;
  await withSession(ctx.pool, async (client) => {
    try {
      const r = await client.query<{ job: string | null }>(
        `SELECT citus_rebalance_start(shard_transfer_mode := $1::citus.shard_transfer_mode)::text AS job`,
        [options.blockWrites ? 'block_writes' : 'force_logical'],
      );
      jobId = r.rows[0]?.job ? Number(r.rows[0].job) : null;
      if (jobId === null) return;
      const progress = options.onProgress ? watch(ctx, options, started) : undefined;
      try {
        await client.query('SELECT citus_rebalance_wait()');
      } finally {
        await progress?.stop();
      }
      const state = await client.query<{ state: string }>('SELECT state::text FROM pg_dist_background_job WHERE job_id = $1', [jobId]);
      if (state.rows[0]?.state !== 'finished')
        throw new RunFailure(
          'rebalance_failed',
          `Citus's rebalance job ${jobId} ended ${state.rows[0]?.state ?? 'unknown'}; see SELECT * FROM citus_rebalance_status() (tenants already moved stay moved)`,
        );
    } catch (err) {
      if (err instanceof RunFailure) throw err;
      const refusal = citusRefusal(err);
      if (refusal) throw new RunFailure('rebalance_refused', `the rebalance did not run: ${(err as Error).message}; ${refusal}`);
      throw toTenantctlError(err);
    }
  });
  const after = jobId === null ? before : await readPlacements(ctx.pool, schemas);
  const moved: RebalanceOnCitusResult['moved'] = [];
  for (const t of tenants) {
    const a = before.get(t.schema);
    const b = after.get(t.schema);
    if (a && b && (a.host !== b.host || a.port !== b.port))
      moved.push({ id: t.id, from: { host: a.host, port: a.port }, to: { host: b.host, port: b.port } });
  }
  const seconds = (Date.now() - started) / 1000;
  for (const m of moved) await logOperation(ctx.pool, ctx, 'relocate', m.id, { from: m.from, to: m.to, mode, rebalanceJob: jobId });
  return { jobId, mode, moved, seconds };
}

function watch(ctx: Context, options: RebalanceOnCitusOptions, started: number) {
  return every(options.progressEveryMs ?? 1000, async () => {
    options.onProgress?.({ moving: await moveProgress(ctx.pool), seconds: (Date.now() - started) / 1000 });
  });
}
