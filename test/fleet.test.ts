import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, migrateStatus } from '../src/index.js';
import { BIN, cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { scratchProject } from './support/migrations.js';
import { snapshot } from './support/snapshot.js';
import { TENANT_LOCK_KEYS_PARAMS } from '../src/db/locks.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query('CREATE TABLE public.migration_runs (tenant text NOT NULL, name text NOT NULL)');
});
afterAll(async () => {
  await db.drop();
});

interface MigrateJson {
  tenants: { id: string; status: string; applied: string[]; error?: string; reason?: string }[];
  summary: { migrated: number; upToDate: number; failed: number; skipped: number };
  stoppedBecause?: string;
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(3, '0')}`);

/** A fleet in its own control schema and prefix, on a small two-migration project. */
async function fleet(name: string, n: number) {
  const proj = scratchProject();
  const config = { controlSchema: `ctl_${name}`, schemaPrefix: `${name}_`, sharedSchema: `${name}_shared` };
  const cli = cliOn(db.url, { cwd: proj.dir });
  const flags = ['--config', `${proj.dir}/tenantctl.config.json`];
  const { writeFileSync } = await import('node:fs');
  writeFileSync(`${proj.dir}/tenantctl.config.json`, JSON.stringify({ ...config, roles: false }));
  const tenants = ids(name, n);
  const created = await cli([...flags, 'tenant', 'create', ...tenants, '--concurrency', '4']);
  expect(created.code, created.stderr).toBe(0);
  return { proj, cli: (args: string[]) => cli([...flags, ...args]), tenants, config };
}

/** A migration that records each time it runs, and takes a while. */
const counted = (name: string, seconds: number) =>
  `-- Up Migration\nSELECT pg_sleep(${seconds});\nCREATE TABLE ${name}_t (id int);\nINSERT INTO public.migration_runs SELECT current_schema(), '${name}';\n-- Down Migration\nDROP TABLE ${name}_t;\n`;

/** Polls until fn gives a value (every 20 ms, at most 60 s). */
async function pollUntil<T>(fn: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(20);
  }
  return undefined;
}

describe('fleet migrate', () => {
  it('two runs started together apply every migration exactly once', async () => {
    const f = await fleet('race', 24);
    // A barrier: every tenant's migration waits for a lock the test holds, so both runs are in flight together.
    f.proj.add(
      '1700000010000_m10',
      `-- Up Migration\nSELECT pg_advisory_xact_lock_shared(77001);\n${counted('m10', 0).replace('-- Up Migration\n', '')}`,
    );
    f.proj.add('1700000011000_m11', counted('m11', 0));
    const barrier = new pg.Client({ connectionString: db.url });
    await barrier.connect();
    await barrier.query('SELECT pg_advisory_lock(77001)');
    const both = Promise.all([f.cli(['migrate', '--json', '--concurrency', '3']), f.cli(['migrate', '--json', '--concurrency', '3'])]);
    // More waiters than one run has workers: the two runs overlap.
    const waiters = await pollUntil(async () => {
      const r = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 77001 AND NOT granted`,
      );
      return r.rows[0]!.n >= 4 ? r.rows[0]!.n : undefined;
    });
    expect(waiters).toBeGreaterThanOrEqual(4);
    await barrier.query('SELECT pg_advisory_unlock(77001)');
    await barrier.end();
    const [a, b] = await both;
    for (const r of [a, b]) expect([0, 3], r.stderr).toContain(r.code);
    const docs = [a.json<MigrateJson>(), b.json<MigrateJson>()];
    // One run found tenants the other held.
    expect(docs.flatMap((d) => d.tenants).filter((t) => t.status === 'skipped' && t.reason === 'locked').length).toBeGreaterThan(0);
    const migrated = docs.flatMap((d) => d.tenants.filter((t) => t.status === 'migrated').map((t) => t.id));
    expect(new Set(migrated).size).toBe(migrated.length);
    const runs = await db.pool.query(
      `SELECT tenant, name, count(*)::int AS n FROM public.migration_runs WHERE tenant LIKE 'race\\_%' GROUP BY 1, 2`,
    );
    expect(runs.rows).toHaveLength(48);
    expect(runs.rows.every((r) => r.n === 1)).toBe(true);
    // Skipped tenants say why, and the next run finishes them.
    for (const d of docs) for (const t of d.tenants.filter((x) => x.status === 'skipped')) expect(t.reason).toBe('locked');
    const after = await f.cli(['migrate', '--json']);
    expect(after.code).toBe(0);
    expect(after.json<MigrateJson>().summary.failed).toBe(0);
    const status = await f.cli(['migrate', 'status', '--check']);
    expect(status.code).toBe(0);
  });

  it('kill -9 in the middle: every tenant is whole, and the rerun finishes only what is missing', async () => {
    const f = await fleet('kill', 30);
    f.proj.add(
      '1700000010000_big',
      `-- Up Migration\nCREATE TABLE big (id int PRIMARY KEY, v text);\nINSERT INTO big SELECT g, 'x' FROM generate_series(1, 20000) g;\nCREATE INDEX big_v_idx ON big (v);\nSELECT pg_sleep(0.15);\nALTER TABLE customers ADD COLUMN big_id int REFERENCES big (id);\n`,
    );
    const child = spawn(
      process.execPath,
      [BIN, '--database-url', db.url, '--config', `${f.proj.dir}/tenantctl.config.json`, 'migrate', '--concurrency', '2'],
      {
        cwd: f.proj.dir,
        stdio: 'ignore',
      },
    );
    const journalCount = async () =>
      (await db.pool.query(`SELECT count(*)::int AS n FROM ctl_kill.tenant_migrations WHERE name = '1700000010000_big'`)).rows[0]
        .n as number;
    for (let i = 0; i < 200 && (await journalCount()) < 6; i++) await sleep(50);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // Wait for the server to finish with the dead client: a tenant whose last message (migrations with
    // COMMIT) was already sent commits; one still in the middle rolls back.
    for (let i = 0; i < 100; i++) {
      const busy = await db.pool.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tenantctl'`,
      );
      if (busy.rows[0].n === 0) break;
      await sleep(100);
    }
    const done = await journalCount();
    expect(done).toBeGreaterThanOrEqual(6);
    expect(done).toBeLessThan(30);
    // Whole: every tenant either has the journal row and all of the migration, or neither.
    const state = await db.pool.query(`
      SELECT t.id,
        EXISTS (SELECT 1 FROM ctl_kill.tenant_migrations m WHERE m.tenant_id = t.id AND m.name = '1700000010000_big') AS journaled,
        to_regclass(quote_ident(t.schema_name) || '.big') IS NOT NULL AS has_table,
        EXISTS (SELECT 1 FROM information_schema.columns c WHERE c.table_schema = t.schema_name AND c.table_name = 'customers' AND c.column_name = 'big_id') AS has_column
      FROM ctl_kill.tenants t ORDER BY t.id`);
    for (const row of state.rows) {
      expect([row.id, row.has_table, row.has_column]).toEqual([row.id, row.journaled, row.journaled]);
    }
    const rerun = await f.cli(['migrate', '--wait', '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json<MigrateJson>().summary).toEqual({ migrated: 30 - done, upToDate: done, failed: 0, skipped: 0 });
    // Every tenant's catalog now matches a tenant migrated cleanly in one go.
    const shape = async (schema: string) =>
      (
        await db.pool.query(
          `SELECT c.relname, c.relkind, (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS cols,
                  (SELECT string_agg(conname || ':' || pg_get_constraintdef(co.oid), ',' ORDER BY conname) FROM pg_constraint co WHERE co.conrelid = c.oid) AS cons
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 ORDER BY 1`,
          [schema],
        )
      ).rows.map((r) => ({ ...r, cons: String(r.cons).replaceAll(`${schema}.`, '') }));
    const clean = await f.cli(['tenant', 'create', 'kill999']);
    expect(clean.code).toBe(0);
    const reference = await shape('kill_kill999');
    for (const id of f.tenants) expect(await shape(`kill_${id}`)).toEqual(reference);
  });

  it('a held lock: the tenant is skipped and the run exits 3; with --wait it waits', async () => {
    const f = await fleet('held', 3);
    f.proj.add('1700000010000_m10', counted('held10', 0));
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query(`SELECT pg_advisory_lock(${TENANT_LOCK_KEYS_PARAMS})`, [f.config.controlSchema, 'held002']);
    const skipped = await f.cli(['migrate', '--json']);
    expect(skipped.code).toBe(3);
    const doc = skipped.json<MigrateJson>();
    expect(doc.tenants.find((t) => t.id === 'held002')).toMatchObject({ status: 'skipped', reason: 'locked' });
    expect(doc.summary).toEqual({ migrated: 2, upToDate: 0, failed: 0, skipped: 1 });
    const waiting = f.cli(['migrate', '--wait', '--json']);
    // The waiting run is queued on the tenant's lock before the holder lets go.
    const queued = await pollUntil(async () => {
      const r = await db.pool.query(
        `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = 'tenantctl' AND a.datname = current_database()`,
      );
      return r.rowCount ? true : undefined;
    });
    expect(queued).toBe(true);
    await holder.query('SELECT pg_advisory_unlock_all()');
    const waited = await waiting;
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.json<MigrateJson>().tenants.find((t) => t.id === 'held002')).toMatchObject({ status: 'migrated' });
    await holder.end();
  });

  it('--canary stops before the rest when a canary fails; --fail-fast and --max-failures likewise', async () => {
    const f = await fleet('pol', 8);
    f.proj.add('1700000010000_m10', '-- Up Migration\nALTER TABLE customers ADD COLUMN flag int;\n');
    for (const id of ['pol002', 'pol005', 'pol006']) await db.pool.query(`ALTER TABLE pol_${id}.customers ADD COLUMN flag int`);
    const canary = await f.cli(['migrate', '--canary', '3', '--concurrency', '1', '--json']);
    expect(canary.code).toBe(1);
    let doc = canary.json<MigrateJson>();
    expect(doc.tenants.map((t) => t.status)).toEqual([
      'migrated',
      'failed',
      'migrated',
      'skipped',
      'skipped',
      'skipped',
      'skipped',
      'skipped',
    ]);
    expect(doc.stoppedBecause).toMatch(/--canary 3/);
    expect(doc.tenants[3]).toMatchObject({ reason: 'stopped' });

    const failFast = await f.cli(['migrate', '--fail-fast', '--concurrency', '1', '--json']);
    doc = failFast.json<MigrateJson>();
    expect(failFast.code).toBe(1);
    // pol002 fails first; nothing after it starts.
    expect(doc.tenants.map((t) => `${t.id}:${t.status}`)).toEqual([
      'pol001:up-to-date',
      'pol002:failed',
      'pol003:up-to-date',
      'pol004:skipped',
      'pol005:skipped',
      'pol006:skipped',
      'pol007:skipped',
      'pol008:skipped',
    ]);

    const max = await f.cli(['migrate', '--max-failures', '2', '--concurrency', '1', '--json']);
    doc = max.json<MigrateJson>();
    expect(max.code).toBe(1);
    expect(doc.tenants.map((t) => `${t.id}:${t.status}`)).toEqual([
      'pol001:up-to-date',
      'pol002:failed',
      'pol003:up-to-date',
      'pol004:migrated',
      'pol005:failed',
      'pol006:skipped',
      'pol007:skipped',
      'pol008:skipped',
    ]);
    // By default a run goes past failures and says so.
    const all = await f.cli(['migrate', '--json']);
    expect(all.json<MigrateJson>().summary).toEqual({ migrated: 2, upToDate: 3, failed: 3, skipped: 0 });
  });

  it('--dry-run leaves the catalog and the control schema as they were and lists what would run', async () => {
    const f = await fleet('dry', 3);
    f.proj.add('1700000010000_m10', counted('dry10', 0));
    const before = await snapshot(db.pool, f.config.controlSchema);
    const r = await f.cli(['migrate', '--dry-run', '--json']);
    expect(r.code).toBe(0);
    expect(r.json<MigrateJson>().tenants).toEqual(
      f.tenants.map((id) => ({ id, status: 'migrated', applied: ['1700000010000_m10'], error: null })),
    );
    const human = await f.cli(['migrate', '--dry-run']);
    expect(human.stdout).toMatch(/dry001: would apply 1700000010000_m10/);
    expect(await snapshot(db.pool, f.config.controlSchema)).toBe(before);
  });

  it('--dry-run on a database never initialised creates nothing at all', async () => {
    const empty = await createTestDatabase();
    try {
      const before = await snapshot(empty.pool);
      const r = await cliOn(empty.url)(['migrate', '--dry-run', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json<{ shared: { pending: string[] } }>().shared.pending).toEqual(['1700000000000_create_plans']);
      expect(await snapshot(empty.pool)).toBe(before);
    } finally {
      await empty.drop();
    }
  });

  it('prints one plain line per finished tenant on stderr when it is not a terminal', async () => {
    const f = await fleet('prog', 3);
    f.proj.add('1700000010000_m10', counted('prog10', 0));
    const r = await f.cli(['migrate']);
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const id of f.tenants) expect(r.stderr).toMatch(new RegExp(`^${id}: migrated \\(\\d/3\\)$`, 'm'));
  });
});

describe('fleet status at scale', () => {
  it('migrate status issues the same number of queries for 10 tenants as for 500', async () => {
    const proj = scratchProject();
    const lib = await openOn(db.url, {
      controlSchema: 'ctl_scale',
      schemaPrefix: 'sc_',
      sharedSchema: 'sc_shared',
      roles: false,
      concurrency: 4,
      tenantMigrations: proj.tenant,
      sharedMigrations: proj.shared,
    });
    try {
      const counts: number[] = [];
      const created = await createTenants(lib, { ids: ids('s', 10) });
      expect(created.summary.failed).toBe(0);
      for (const n of [10, 500]) {
        if (n === 500) expect((await createTenants(lib, { ids: ids('s', 500).slice(10) })).summary.failed).toBe(0);
        const before = lib.stats.roundTrips;
        const s = await migrateStatus(lib, {});
        expect(s.tenants).toHaveLength(n);
        counts.push(lib.stats.roundTrips - before);
      }
      expect(counts[1]).toBe(counts[0]);
      expect(counts[0]).toBeLessThanOrEqual(5);
    } finally {
      await lib.close();
    }
  });
});
