import type { Context } from '../context.js';
import { logOperation } from '../control/oplog.js';
import { holdTenantLock, releaseTenantLock, withSession } from '../db/session.js';
import type { Queryable } from '../db/types.js';
import { InputError, RunFailure, tenantLocked, toTenantctlError, usage } from '../errors.js';
import { assertTenantId } from '../runtime/ids.js';
import { findTenants } from '../runtime/lookup.js';
import { serverContext } from '../runtime/servers.js';
import { requireCitus } from './detect.js';
import { readPlacements, tablesWithoutReplicaIdentity, workerNodes, type Placement } from './placement.js';
import { citusRefusal } from './refusals.js';
import { every, moveProgress } from './progress.js';

export interface RelocateOnCitusOptions {
  id: string;
  /** The worker to move the tenant to, "HOST:PORT" as pg_dist_node names it. */
  to: string;
  /** Block writes to the tenant for the whole copy instead of moving online (logical replication). */
  blockWrites?: boolean;
  /** While the move runs: how far it is, every `progressEveryMs` (default 500). */
  onProgress?: (progress: RelocateProgress) => void;
  progressEveryMs?: number;
}

export interface RelocateProgress {
  id: string;
  /** Bytes of the tenant's shards on the target so far, and on the source. */
  copiedBytes: number;
  totalBytes: number;
  seconds: number;
}

export interface RelocateOnCitusResult {
  id: string;
  schema: string;
  status: 'relocated' | 'already-there';
  from: { host: string; port: number };
  to: { host: string; port: number };
  mode: 'online' | 'block_writes';
  sizeBytes: number;
  seconds: number;
}

/** Checks relocate's options without a database (exit 2): the id, and the target as HOST:PORT. */
export function validateRelocateOnCitusOptions(options: RelocateOnCitusOptions): { host: string; port: number } {
  assertTenantId(options.id);
  const m = /^(.+):(\d{1,5})$/.exec(options.to ?? '');
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535 || /\s/.test(m[1]!))
    throw usage(`--to must be a Citus worker as HOST:PORT (see pg_dist_node), got ${JSON.stringify(options.to)}`);
  return { host: m[1]!, port };
}

/**
 * Moves a tenant's distributed schema to another worker with citus_schema_move:
 * online by default (logical replication; writes wait only for the final
 * catch-up), or with `blockWrites` for the whole copy. Refused before anything
 * moves (exit 2): a tenant that is not a distributed schema or has no table, a
 * target that is not an active worker, and, online, a table with neither a
 * primary key nor a replica identity (named, with the fix). The tenant's lock
 * is held while it moves (a migrate of it waits or skips it); the move is
 * Citus's own all-or-nothing operation. Recorded in the operations log.
 */
export async function relocateOnCitus(ctx: Context, options: RelocateOnCitusOptions): Promise<RelocateOnCitusResult> {
  const to = validateRelocateOnCitusOptions(options);
  const [t] = await findTenants(ctx, [options.id]);
  const sctx = serverContext(ctx, t!.server);
  await requireCitus(sctx, 'tenant relocate --to HOST:PORT');
  const schema = t!.schema;
  const from = await placementOf(sctx.pool, options.id, schema);
  const workers = await workerNodes(sctx.pool);
  if (!workers.some((w) => w.host === to.host && w.port === to.port))
    throw new InputError(
      'unknown_worker',
      `${to.host}:${to.port} is not an active Citus worker that holds shards; workers: ${workers.map((w) => `${w.host}:${w.port}`).join(', ') || 'none'}`,
      { to },
    );
  const mode = options.blockWrites ? 'block_writes' : 'online';
  const base = { id: options.id, schema, from: { host: from.host, port: from.port }, to, mode, sizeBytes: from.sizeBytes } as const;
  if (from.host === to.host && from.port === to.port) return { ...base, status: 'already-there', seconds: 0 };
  if (mode === 'online') await assertReplicaIdentity(sctx.pool, options.id, schema);
  const started = Date.now();
  await withSession(sctx.pool, async (client) => {
    if (!(await holdTenantLock(client, sctx.config, { id: options.id, wait: false }))) throw tenantLocked(options.id);
    const progress = options.onProgress ? watchProgress(sctx, options, schema, from.sizeBytes, started) : undefined;
    try {
      await client.query(`SELECT citus_schema_move($1::regnamespace, $2, $3, $4::citus.shard_transfer_mode)`, [
        schema,
        to.host,
        to.port,
        options.blockWrites ? 'block_writes' : 'force_logical',
      ]);
    } catch (err) {
      const refusal = citusRefusal(err);
      if (refusal) throw new RunFailure('relocate_refused', `tenant "${options.id}" was not moved: ${(err as Error).message}; ${refusal}`);
      throw toTenantctlError(err);
    } finally {
      await progress?.stop();
      await releaseTenantLock(client);
    }
  });
  const seconds = (Date.now() - started) / 1000;
  const after = (await readPlacements(sctx.pool, [schema])).get(schema);
  const result: RelocateOnCitusResult = { ...base, status: 'relocated', seconds, sizeBytes: after?.sizeBytes ?? from.sizeBytes };
  await logOperation(sctx.pool, sctx, 'relocate', options.id, {
    schema,
    from: result.from,
    to: result.to,
    mode,
    sizeBytes: result.sizeBytes,
    seconds,
  });
  return result;
}

async function placementOf(db: Queryable, id: string, schema: string): Promise<Placement> {
  const placement = (await readPlacements(db, [schema])).get(schema);
  if (placement) return placement;
  const distributed = await db.query('SELECT 1 FROM pg_dist_schema WHERE schemaid = to_regnamespace($1)', [schema]);
  if (distributed.rowCount === 0)
    throw new InputError(
      'not_distributed',
      `tenant "${id}": schema ${schema} is not a Citus distributed schema, so Citus cannot move it; make it one with SELECT citus_schema_distribute('${schema}')`,
      { id },
    );
  throw new InputError('nothing_to_move', `tenant "${id}": schema ${schema} has no table yet, so it lives on no worker; nothing to move`, {
    id,
  });
}

/** Online moves replicate UPDATE and DELETE: every table needs a primary key or a replica identity. */
async function assertReplicaIdentity(db: Queryable, id: string, schema: string): Promise<void> {
  const missing = await tablesWithoutReplicaIdentity(db, [schema]);
  if (missing.length === 0) return;
  const tables = missing.join(', ');
  throw new InputError(
    'no_replica_identity',
    `tenant "${id}" cannot move online: ${tables} ${missing.length === 1 ? 'has' : 'have'} no primary key or replica identity, so logical replication cannot carry its UPDATEs and DELETEs; add a primary key (or ALTER TABLE ... REPLICA IDENTITY FULL) in a migration, or move with --block-writes (writes to the tenant wait for the whole copy); nothing was moved`,
    { id, tables: missing },
  );
}

/** Polls Citus's move progress from another connection until stopped. */
function watchProgress(ctx: Context, options: RelocateOnCitusOptions, schema: string, totalBytes: number, started: number) {
  return every(options.progressEveryMs ?? 500, async () => {
    const [row] = await moveProgress(ctx.pool, [schema]);
    if (!row) return;
    options.onProgress?.({
      id: options.id,
      copiedBytes: row.copiedBytes,
      totalBytes: row.totalBytes || totalBytes,
      seconds: (Date.now() - started) / 1000,
    });
  });
}
