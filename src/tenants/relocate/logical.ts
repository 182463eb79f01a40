import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '../../context.js';
import { describeError, RunFailure } from '../../errors.js';
import { recordAppliedSql } from '../../control/journal.js';
import { begin, releaseClean, rollback, runTransaction, withSession } from '../../db/session.js';
import type { PoolClient, Queryable } from '../../db/types.js';
import { databaseOid } from '../../roles/names.js';
import { ident, literal } from '../../util/quote.js';
import { schemaNameFor } from '../provision.js';
import { clearLeftovers } from './leftovers.js';
import { build, freeze, seconds, type MoveInput, type MoveOutput } from './move.js';
import { pauseAt } from './pause.js';
import { afterCommitFailure, registerOnTarget, settleTarget, sumsOnOwnSession, switchOver, type MoveState } from './switch.js';
import { rowTables, STABLE_TEXT } from './tables.js';

/**
 * Logical mode: the rows travel while the tenant keeps writing. The target's
 * structure is committed first (a schema with no registry row: a leftover if
 * the move stops, never a tenant), a publication FOR TABLES IN SCHEMA on the
 * source and a subscription with copy_data on the target copy the rows and
 * follow every change; once the initial copy is done and caught up, the
 * source freezes (EXCLUSIVE locks, reads go on), a barrier row written after
 * the freeze reaches the target, the subscription and its slot go, and the
 * switch is the one copy mode makes: sequences (which replication does not
 * carry), counts and checksums, the registry row and journal, the flip, the
 * archive. Writes wait only from the freeze to the archive's commit.
 */

/** The names a relocation's replication objects take: the slot's carries the source database's oid (slots are per server). */
export async function replicationNames(
  sctx: Context,
  id: string,
): Promise<{ publication: string; subscription: string; slot: string; marker: string }> {
  const oid = await databaseOid(sctx.pool, sctx);
  return {
    publication: `tenantctl_relocate_${id}`,
    subscription: `tenantctl_relocate_${id}`,
    slot: `tc${oid}_relocate_${id}`,
    marker: `${schemaNameFor(sctx.config, id)}$relocate`,
  };
}

/**
 * The barrier: a one-table schema on both sides, published with the tenant's.
 * A row written to it on the source after the freeze reaches the target only
 * after every transaction that committed before it (the apply worker replays
 * in commit order): once it is there, the target holds every row.
 */
function markerSql(marker: string): string {
  return `CREATE SCHEMA ${ident(marker)}; CREATE TABLE ${ident(marker)}.${ident('barrier')} (token text PRIMARY KEY)`;
}

async function passBarrier(source: Queryable, target: Queryable, marker: string): Promise<void> {
  const token = randomUUID();
  const table = `${ident(marker)}.${ident('barrier')}`;
  await source.query(`INSERT INTO ${table} (token) VALUES ($1)`, [token]); // ident()-quoted names; values bound
  for (let i = 0; ; i++) {
    if ((await target.query(`SELECT 1 FROM ${table} WHERE token = $1`, [token])).rowCount === 1) return; // ident()-quoted names; values bound
    if (i > 60_000)
      throw new RunFailure('replication_stalled', 'the target has not caught up with the source after 10 minutes; nothing was moved');
    await sleep(i < 100 ? 2 : 10);
  }
}

/**
 * An interrupted logical move's replication objects, gone: the subscription on
 * the target (without touching the slot, which may be unreachable through it),
 * then the slot and the publication on the source. Before clearLeftovers, so
 * no apply worker writes into the schema it drops.
 */
export async function clearReplication(sctx: Context, tctx: Context, id: string): Promise<string[]> {
  const names = await replicationNames(sctx, id);
  const cleared: string[] = [];
  const sub = await tctx.pool.query(
    `SELECT 1 FROM pg_catalog.pg_subscription WHERE subname = $1 AND subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())`,
    [names.subscription],
  );
  if (sub.rowCount === 1) {
    await dropSubscription(tctx.pool, names.subscription);
    cleared.push(`subscription ${names.subscription}`);
  }
  if (await dropSlot(sctx.pool, names.slot)) cleared.push(`replication slot ${names.slot}`);
  const pub = await sctx.pool.query(`SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = $1`, [names.publication]);
  if (pub.rowCount === 1) {
    await sctx.pool.query(`DROP PUBLICATION IF EXISTS ${ident(names.publication)}`);
    cleared.push(`publication ${names.publication}`);
  }
  const marker = await sctx.pool.query(`SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1`, [names.marker]);
  if (marker.rowCount === 1) {
    await sctx.pool.query(`DROP SCHEMA IF EXISTS ${ident(names.marker)} CASCADE`);
    cleared.push(`schema ${names.marker} on the source`);
  }
  await tctx.pool.query(`DROP SCHEMA IF EXISTS ${ident(names.marker)} CASCADE`);
  return cleared;
}

/** Stops the apply workers, detaches the slot, drops the subscription: no statement here needs the source. */
async function dropSubscription(db: Queryable, name: string): Promise<void> {
  const sub = ident(name);
  await db.query(`ALTER SUBSCRIPTION ${sub} DISABLE`); // sub = ident(name)
  await db.query(`ALTER SUBSCRIPTION ${sub} SET (slot_name = NONE)`); // sub = ident(name)
  await db.query(`DROP SUBSCRIPTION ${sub}`); // sub = ident(name)
}

/** Drops the slot once no walsender uses it (a disabled subscription's walsender takes a moment to go). */
async function dropSlot(db: Queryable, slot: string): Promise<boolean> {
  for (let i = 0; ; i++) {
    const r = await db.query<{ active: boolean }>(`SELECT active FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`, [slot]);
    if (r.rowCount === 0) return i > 0;
    if (!r.rows[0]!.active) {
      await db.query(
        `SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots WHERE slot_name = $1 AND NOT active`,
        [slot],
      );
      continue;
    }
    if (i > 600) throw new RunFailure('slot_busy', `replication slot ${slot} on the source is still in use after 30 s; drop it by hand`);
    await sleep(50);
  }
}

/**
 * A logical move that fails before the target's commit (a lock_timeout on the freeze, a
 * replication error) takes down what it set up at once, so that no slot keeps WAL on the source
 * until the next run: the subscription, slot, publication, barrier schemas and the target's
 * structure. Best effort: whatever stays is cleared by the next run.
 */
export async function logicalMove(input: MoveInput & { sourceUrl: string }): Promise<MoveOutput> {
  const state: MoveState = { at: 'open' };
  try {
    return await replicate(input, state);
  } catch (err) {
    if (state.at === 'open') {
      try {
        await clearReplication(input.sctx, input.tctx, input.tenant.id);
        await clearLeftovers(input.tctx, input.tenant.id);
      } catch (cleanup) {
        input.home.log.warn(`could not take down this move's replication objects (${describeError(cleanup)}); the next run clears them`);
      }
    }
    throw err;
  }
}

async function replicate(input: MoveInput & { sourceUrl: string }, state: MoveState): Promise<MoveOutput> {
  const { home, sctx, tctx, spec, tenant } = input;
  const schema = spec.schema;
  const names = await replicationNames(sctx, tenant.id);
  const step = (what: string) => home.log.debug(`relocate ${tenant.id}: ${what} at ${seconds(input.started)} s`);
  // 1. The structure, committed: the subscription's workers write into it.
  await withSession(tctx.pool, (c) =>
    runTransaction(c, tctx.config, { statementTimeout: '0' }, async () => {
      await build(c, tctx, spec, false);
      await c.query(markerSql(names.marker));
    }),
  );
  await sctx.pool.query(markerSql(names.marker));
  await pauseAt(home, 'built');
  step('structure built');
  // 2. Publication and subscription: the initial copy starts.
  await sctx.pool.query(`CREATE PUBLICATION ${ident(names.publication)} FOR TABLES IN SCHEMA ${ident(schema)}, ${ident(names.marker)}`);
  await tctx.pool.query(
    `CREATE SUBSCRIPTION ${ident(names.subscription)} CONNECTION ${literal(input.sourceUrl)} PUBLICATION ${ident(names.publication)}
     WITH (copy_data = true, create_slot = true, slot_name = ${literal(names.slot)})`,
  );
  step('subscribed');
  home.log.info(`subscribed ${tenant.id} on ${tctx.server} to ${sctx.server}: initial copy under way, writes go on`);
  const tables = await rowTables(sctx.pool, schema);
  await waitReady(tctx, names.subscription, tables.length + 1, home);
  await pauseAt(home, 'subscribed');
  step('initial copy done');
  // Caught up once before the freeze, so the freeze waits only for what came meanwhile.
  await passBarrier(sctx.pool, tctx.pool, names.marker);
  step('caught up before the freeze');

  const target = await tctx.pool.connect();
  const source = await sctx.pool.connect();
  let sourceOpen = false;
  let targetOpen = false;
  try {
    // 3. Freeze, and wait for a barrier row written after it.
    await begin(source, sctx.config, { statementTimeout: '0', prelude: [STABLE_TEXT] });
    sourceOpen = true;
    const frozenAt = performance.now();
    const targetTables = await rowTables(tctx.pool, schema);
    const { lockable, sourceTables } = await freeze(source, input, targetTables);
    step('frozen');
    // The source's rows no longer change: its checksums start now, on a session of their own.
    const sourceSums = sumsOnOwnSession(sctx, schema, sourceTables);
    // The barrier row commits on a connection of its own: the freeze's transaction commits last.
    await passBarrier(sctx.pool, tctx.pool, names.marker);
    await pauseAt(home, 'copied');
    step('caught up after the freeze');
    // 4. Every row is on the target and nothing more comes: its checksums start too, and the
    // subscription stops (it and its slot are dropped once the writes go on again).
    const targetSums = sumsOnOwnSession(tctx, schema, sourceTables);
    await tctx.pool.query(`ALTER SUBSCRIPTION ${ident(names.subscription)} DISABLE`);
    // 5. The registry row, journal, sequences and comparison in the target's transaction; then the switch.
    await begin(target, tctx.config, { statementTimeout: '0', prelude: [STABLE_TEXT] });
    targetOpen = true;
    await target.query(`DROP SCHEMA ${ident(names.marker)} CASCADE`);
    await registerOnTarget(target, input);
    const journal = recordAppliedSql(tctx, tenant.id, spec.migrations);
    if (journal) await target.query(journal);
    step('registered');
    const settled = await settleTarget(source, target, input, sourceTables, { source: sourceSums, target: targetSums });
    step('compared');
    const rows = settled.reduce((n, t) => n + t.rows, 0);
    const bytes = await tableBytes(source, schema);
    const detail = { mode: 'logical', rows, bytes, seconds: seconds(input.started), tables: settled.length };
    const archivedSource = await switchOver(
      source,
      target,
      input,
      state,
      detail,
      {
        lockable,
        rowTables: sourceTables.map((t) => t.name),
        sourceSql: `DROP PUBLICATION IF EXISTS ${ident(names.publication)}; DROP SCHEMA IF EXISTS ${ident(names.marker)} CASCADE`,
      },
      input.purgeSource,
    );
    sourceOpen = false;
    step('switched');
    home.log.info(`writes of ${tenant.id} waited ${((performance.now() - frozenAt) / 1000).toFixed(3)} s (freeze to switch)`);
    try {
      await dropSubscription(tctx.pool, names.subscription);
      await dropSlot(sctx.pool, names.slot);
    } catch (err) {
      home.log.warn(
        `${tenant.id} moved, but its subscription or replication slot is still there (${err instanceof Error ? err.message : String(err)}); the same command run again drops them (a slot keeps WAL on the source)`,
      );
    }
    return { tables: settled, rows, bytes, archivedSource };
  } catch (err) {
    if (targetOpen && state.at === 'open') await rollback(target);
    if (sourceOpen && state.at !== 'done') await rollback(source);
    throw afterCommitFailure(err, input, state);
  } finally {
    await releaseClean(source);
    await releaseClean(target);
  }
}

/** Until every table of the subscription has finished its initial copy (state r), failing on a worker's error. */
async function waitReady(tctx: Context, subscription: string, total: number, home: Context): Promise<void> {
  let reported = 0;
  for (;;) {
    const r = await tctx.pool.query<{ ready: number; errors: string }>(
      `SELECT (SELECT count(*)::int FROM pg_catalog.pg_subscription_rel r WHERE r.srsubid = s.oid AND r.srsubstate = 'r') AS ready,
         (SELECT (st.sync_error_count + st.apply_error_count)::text FROM pg_catalog.pg_stat_subscription_stats st WHERE st.subid = s.oid) AS errors
       FROM pg_catalog.pg_subscription s WHERE s.subname = $1 AND s.subdbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())`,
      [subscription],
    );
    const row = r.rows[0];
    if (!row) throw new RunFailure('subscription_gone', `the subscription ${subscription} on "${tctx.server}" is gone; nothing was moved`);
    if (Number(row.errors ?? 0) > 0)
      throw new RunFailure(
        'replication_failed',
        `replicating the tenant's rows to "${tctx.server}" failed (see that server's log); nothing was moved; --mode copy moves it without replication`,
      );
    if (row.ready > reported) {
      reported = row.ready;
      home.onProgress?.({ id: 'initial copy', status: `${row.ready} of ${total} tables copied`, done: row.ready, failed: 0, total });
    }
    if (row.ready >= total) return;
    await sleep(50);
  }
}

/** On-disk size of the tenant's tables on the source: what logical mode carried. */
async function tableBytes(db: PoolClient, schema: string): Promise<number> {
  const r = await db.query<{ b: string }>(
    `SELECT coalesce(sum(pg_catalog.pg_table_size(c.oid)), 0)::text AS b FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'r'`,
    [schema],
  );
  return Number(r.rows[0]!.b);
}
