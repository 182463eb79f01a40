import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbedded, type EmbeddedServer } from '../src/db/embedded.js';
import { BIN, cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { scratchProject } from './support/migrations.js';
import { startWriter } from './support/writer.js';

/** A source that logs logical changes: an embedded PostgreSQL of this test's own with wal_level=logical. */
let logicalServer: EmbeddedServer;
let baseDir: string;
let home: TestDatabase;
let src: TestDatabase;
let dir: string;
let cli: ReturnType<typeof cliOn>;

beforeAll(async () => {
  baseDir = mkdtempSync(join(tmpdir(), 'tenantctl-logical-'));
  chmodSync(baseDir, 0o755); // the server's OS user reaches it: its data stays in it, and goes with it
  [logicalServer, home] = await Promise.all([startEmbedded({ baseDir, serverFlags: ['-c', 'wal_level=logical'] }), createTestDatabase()]);
  src = await createTestDatabase(logicalServer.url);
  const proj = scratchProject();
  dir = proj.dir;
  writeFileSync(`${dir}/tenantctl.config.json`, JSON.stringify({ servers: { logi: '${TC_TEST_LOGI_URL}' } }));
  cli = cliOn(home.url, { cwd: dir, env: { TC_TEST_LOGI_URL: src.url } });
  expect((await cli(['init'])).code).toBe(0);
}, 120_000);
afterAll(async () => {
  await home?.drop();
  await src?.drop();
  await logicalServer?.stop();
  rmSync(baseDir, { recursive: true, force: true });
});

async function fill(db: TestDatabase, id: string, n: number): Promise<void> {
  const s = `tenant_${id}`;
  await db.pool.query(`
    INSERT INTO ${s}.customers (tenant_id, name) SELECT '${id}', 'c' || g FROM generate_series(1, ${n}) g;
    INSERT INTO ${s}.projects (tenant_id, customer_id, name) SELECT '${id}', c.id, 'p' || c.id FROM ${s}.customers c;
    INSERT INTO ${s}.tasks (tenant_id, project_id, title) SELECT '${id}', p.id, 't' || g FROM ${s}.projects p, generate_series(1, 2) g;
    INSERT INTO ${s}.invoices (tenant_id, customer_id, amount_cents) SELECT '${id}', c.id, c.id FROM ${s}.customers c;`);
}

/** Subscriptions on the home database, slots and publications on the source's: a finished move leaves none. */
async function replication(): Promise<string[]> {
  const subs = await home.pool.query<{ n: string }>(
    `SELECT 'subscription ' || subname AS n FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  const rest = await src.pool.query<{ n: string }>(
    `SELECT 'slot ' || slot_name AS n FROM pg_replication_slots WHERE database = current_database() UNION ALL SELECT 'publication ' || pubname FROM pg_publication`,
  );
  return [...subs.rows, ...rest.rows].map((r) => r.n).sort();
}

const placement = async (id: string) =>
  (await home.pool.query<{ server: string }>(`SELECT server FROM tenantctl.placements WHERE tenant_id = $1`, [id])).rows[0]?.server ??
  'default';

/** Runs relocate to the home server until it pauses at `step` (the documented test hook), then kill -9. */
async function killAt(id: string, step: string): Promise<void> {
  const child = spawn(process.execPath, [BIN, '--database-url', home.url, 'tenant', 'relocate', id, '--to', 'default'], {
    cwd: dir,
    env: { ...process.env, TC_TEST_LOGI_URL: src.url, NO_COLOR: '1', TENANTCTL_TEST_PAUSE_AT: step },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes(`paused at ${step}`)) resolve();
    });
    void exited.then(() => reject(new Error(stderr)));
  });
  child.kill('SIGKILL');
  await exited;
  for (const db of [home, src]) {
    for (let i = 0; i < 1200; i++) {
      const r = await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tenantctl'`);
      if (r.rowCount === 0) break;
      await sleep(25);
    }
  }
}

describe('tenant relocate by logical replication', () => {
  it('moves a tenant while it writes: writes wait only for the switch, none lost, nothing left replicating', async () => {
    expect((await cli(['tenant', 'create', 'l1', '--server', 'logi'])).code).toBe(0);
    await fill(src, 'l1', 20000);
    const writer = startWriter(home.pool, { default: home.pool, logi: src.pool }, 'l1');
    await writer.more(20);
    const out = await cli(['tenant', 'relocate', 'l1', '--to', 'default', '--json']);
    expect(out.code, out.stderr).toBe(0);
    await writer.more(20);
    await writer.stop();
    const doc = out.json<{ mode: string; rows: number; tables: { table: string; rows: number }[]; archivedSource: string }>();
    expect(doc.mode).toBe('logical');
    expect(doc.archivedSource).toBe('tenant_l1$archived');
    expect(await placement('l1')).toBe('default');

    const onHome = (await home.pool.query<{ name: string }>(`SELECT name FROM tenant_l1.customers WHERE name LIKE 'w%'`)).rows.map(
      (r) => r.name,
    );
    expect(onHome.sort()).toEqual([...writer.acked].sort());
    const archived = (
      await src.pool.query<{ name: string }>(`SELECT name FROM "tenant_l1$archived".customers WHERE name LIKE 'w%'`)
    ).rows.map((r) => r.name);
    const here = new Set(onHome);
    expect(archived.filter((n) => !here.has(n))).toEqual([]);
    // Writes made during the initial copy and catch-up reached the target by replication.
    expect(archived.length).toBeGreaterThan(20);
    // Sequences past the source's, though replication does not carry them.
    const next = await home.pool.query<{ id: string }>(
      `INSERT INTO tenant_l1.customers (tenant_id, name) VALUES ('l1', 'next') RETURNING id::text`,
    );
    const max = await src.pool.query<{ m: string }>(`SELECT max(id)::text AS m FROM "tenant_l1$archived".customers`);
    expect(BigInt(next.rows[0]!.id)).toBeGreaterThan(BigInt(max.rows[0]!.m));
    expect(await replication()).toEqual([]);
    console.log(
      `logical: ${writer.acked.length} writes acknowledged, ${writer.failures} retried, longest gap ${writer.longestMs.toFixed(0)} ms`,
    );
    // Writes wait from the freeze to the switch only (well under a second here; bounded loosely on a shared machine).
    expect(writer.longestMs).toBeLessThan(2000);
  });

  it('killed while replicating: wholly on the source, and the next run clears the subscription, slot and publication and finishes', async () => {
    expect((await cli(['tenant', 'create', 'l2', '--server', 'logi'])).code).toBe(0);
    await fill(src, 'l2', 500);
    const child = spawn(process.execPath, [BIN, '--database-url', home.url, 'tenant', 'relocate', 'l2', '--to', 'default'], {
      cwd: dir,
      env: { ...process.env, TC_TEST_LOGI_URL: src.url, NO_COLOR: '1', TENANTCTL_TEST_PAUSE_AT: 'subscribed' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        if (stderr.includes('paused at subscribed')) resolve();
      });
      void exited.then(() => reject(new Error(stderr)));
    });
    child.kill('SIGKILL');
    await exited;
    for (let i = 0; i < 1200; i++) {
      const r = await home.pool.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tenantctl'`,
      );
      if (r.rowCount === 0) break;
      await sleep(25);
    }
    // Still on the source, which takes writes; the subscription keeps running into a schema that is no tenant.
    expect(await placement('l2')).toBe('logi');
    expect((await home.pool.query(`SELECT 1 FROM tenantctl.tenants WHERE id = 'l2'`)).rowCount).toBe(0);
    await src.pool.query(`INSERT INTO tenant_l2.customers (tenant_id, name) VALUES ('l2', 'after-kill')`);
    expect(await replication()).toEqual([
      'publication tenantctl_relocate_l2',
      expect.stringMatching(/^slot tc\d+_relocate_l2$/),
      'subscription tenantctl_relocate_l2',
    ]);
    const rerun = await cli(['tenant', 'relocate', 'l2', '--to', 'default', '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/cleared what an earlier run left: subscription tenantctl_relocate_l2, replication slot/);
    expect(rerun.json<{ mode: string }>().mode).toBe('logical');
    expect(await replication()).toEqual([]);
    expect((await home.pool.query(`SELECT count(*)::int AS n FROM tenant_l2.customers`)).rows[0]).toEqual({ n: 501 });
  });

  it('killed after the switch committed on the target: wholly on the target, and the next run archives the source and drops the slot', async () => {
    expect((await cli(['tenant', 'create', 'l3', '--server', 'logi'])).code).toBe(0);
    await fill(src, 'l3', 500);
    await killAt('l3', 'target-committed');
    // The target is the home server: its commit was the flip.
    expect(await placement('l3')).toBe('default');
    expect((await home.pool.query(`SELECT count(*)::int AS n FROM tenant_l3.customers`)).rows[0]).toEqual({ n: 500 });
    // The source's copy is not archived yet (its publication went with the archive's transaction), and the stopped subscription still holds its slot.
    expect((await src.pool.query<{ status: string }>(`SELECT status FROM tenantctl.tenants WHERE id = 'l3'`)).rows[0]!.status).toBe(
      'active',
    );
    expect(await replication()).toEqual([
      'publication tenantctl_relocate_l3',
      expect.stringMatching(/^slot tc\d+_relocate_l3$/),
      'subscription tenantctl_relocate_l3',
    ]);
    const rerun = await cli(['tenant', 'relocate', 'l3', '--to', 'default', '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json<{ converged: boolean; archivedSource: string }>()).toMatchObject({
      converged: true,
      archivedSource: 'tenant_l3$archived',
    });
    expect(await replication()).toEqual([]);
    expect((await src.pool.query<{ status: string }>(`SELECT status FROM tenantctl.tenants WHERE id = 'l3'`)).rows[0]!.status).toBe(
      'archived',
    );
  });

  it('a table without a replica identity: auto copies and says why, --mode logical refuses naming it', async () => {
    expect((await cli(['tenant', 'create', 'l4', 'l5', '--server', 'logi'])).code).toBe(0);
    writeFileSync(
      `${dir}/migrations/tenant/1800000000003_log.sql`,
      '-- Up Migration\nCREATE TABLE audit_log (at timestamptz NOT NULL DEFAULT now(), line text);\n',
    );
    expect((await cli(['migrate'])).code).toBe(0);
    await src.pool.query(`INSERT INTO tenant_l4.audit_log (line) SELECT 'l' || g FROM generate_series(1, 10) g`);
    const refused = await cli(['tenant', 'relocate', 'l5', '--to', 'default', '--mode', 'logical']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--mode logical cannot move this tenant: table audit_log has no replica identity/);
    expect(await placement('l5')).toBe('logi');
    const auto = await cli(['tenant', 'relocate', 'l4', '--to', 'default', '--json']);
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stderr).toMatch(/copy mode \(writes wait for the copy\): table audit_log has no replica identity/);
    expect(auto.json<{ mode: string; modeBecause: string }>()).toMatchObject({
      mode: 'copy',
      modeBecause: expect.stringMatching(/audit_log/),
    });
    expect((await home.pool.query(`SELECT count(*)::int AS n FROM tenant_l4.audit_log`)).rows[0]).toEqual({ n: 10 });
    expect(await replication()).toEqual([]);
  });

  it('a freeze that times out behind a conflicting lock fails the move (exit 3, retry) and takes its replication down at once', async () => {
    expect((await cli(['tenant', 'create', 'l6', '--server', 'logi'])).code).toBe(0);
    await fill(src, 'l6', 100);
    // (The audit_log an earlier test added gets a replica identity, so that logical mode can follow it.)
    await src.pool.query(`ALTER TABLE IF EXISTS tenant_l6.audit_log REPLICA IDENTITY FULL`);
    // A session that holds one of the tenant's tables in a mode the freeze conflicts with (as a long
    // VACUUM or CREATE INDEX CONCURRENTLY would), without a transaction id (creating the slot waits
    // for those): the freeze cannot get its lock.
    const holder = await src.pool.connect();
    try {
      await holder.query(`BEGIN; LOCK TABLE tenant_l6.customers IN SHARE UPDATE EXCLUSIVE MODE`);
      const failed = await cli(['tenant', 'relocate', 'l6', '--to', 'default', '--mode', 'logical']);
      expect(failed.code, failed.stderr).toBe(3);
      expect(failed.stderr).toMatch(/lock timeout/);
    } finally {
      await holder.query('COMMIT');
      holder.release();
    }
    expect(await placement('l6')).toBe('logi');
    expect(await replication()).toEqual([]);
    expect((await home.pool.query(`SELECT 1 FROM pg_namespace WHERE nspname LIKE 'tenant\\_l6%'`)).rowCount).toBe(0);
    const rerun = await cli(['tenant', 'relocate', 'l6', '--to', 'default', '--mode', 'logical']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect((await home.pool.query(`SELECT count(*)::int AS n FROM tenant_l6.customers`)).rows[0]).toEqual({ n: 100 });
  });
});
