// A tenant whose DDL hit lock_timeout behind application transactions is tried again in the same run
// (config lockRetries, --lock-retries), with the number of attempts in its result.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { scratchProject } from './support/migrations.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

interface MigrateJson {
  tenants: { id: string; status: string; applied: string[]; error: string | null; attempts?: number }[];
  summary: { migrated: number; upToDate: number; failed: number; skipped: number };
}

async function fleet(name: string, config: Record<string, unknown> = {}) {
  const proj = scratchProject();
  const write = (extra: Record<string, unknown>) =>
    writeFileSync(
      join(proj.dir, 'tenantctl.config.json'),
      JSON.stringify({ controlSchema: `ctl_${name}`, schemaPrefix: `${name}_`, sharedSchema: `${name}_shared`, roles: false, ...extra }),
    );
  // Tenants are created with the default lockTimeout (creating several at once queues briefly on the shared tables).
  write({});
  const cli = cliOn(db.url, { cwd: proj.dir });
  const ids = [`${name}1`, `${name}2`, `${name}3`];
  const created = await cli(['tenant', 'create', ...ids]);
  expect(created.code, created.stderr).toBe(0);
  write({ lockTimeout: '200ms', ...config });
  return { proj, cli, ids };
}

/** An application transaction holding ACCESS SHARE on a table until it commits. */
async function reader(table: string): Promise<pg.Client> {
  const app = new pg.Client({ connectionString: db.url });
  await app.connect();
  await app.query('BEGIN');
  await app.query(`SELECT count(*) FROM ${table}`);
  return app;
}

/** Waits until tenantctl has queued behind a lock with a statement matching `text` in `n` separate attempts (distinct query starts). */
async function queuedTimes(text: string, n: number): Promise<void> {
  const starts = new Set<string>();
  const deadline = Date.now() + 60_000;
  while (starts.size < n) {
    if (Date.now() > deadline) throw new Error(`saw ${starts.size} attempts, not ${n}`);
    const r = await db.pool.query<{ started: string }>(
      `SELECT query_start::text AS started FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tenantctl' AND wait_event_type = 'Lock' AND strpos(query, $1) > 0`,
      [text],
    );
    for (const row of r.rows) starts.add(row.started);
    await sleep(5);
  }
}

describe('lock timeouts are retried', () => {
  it('a tenant whose table is busy is tried again after the lock is released: exit 0, attempts reported for it alone', async () => {
    const f = await fleet('rt');
    f.proj.add('1700000010000_flag', '-- Up Migration\nALTER TABLE customers ADD COLUMN retry_flag int;\n');
    const app = await reader('rt_rt2.customers');
    const run = f.cli(['migrate', '--concurrency', '1', '--json']);
    await queuedTimes('retry_flag', 2);
    await app.query('COMMIT');
    await app.end();
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    const doc = r.json<MigrateJson>();
    expect(doc.summary).toEqual({ migrated: 3, upToDate: 0, failed: 0, skipped: 0 });
    const rt2 = doc.tenants.find((t) => t.id === 'rt2')!;
    expect(rt2).toMatchObject({ status: 'migrated', applied: ['1700000010000_flag'] });
    expect(rt2.attempts).toBeGreaterThanOrEqual(2);
    expect(rt2.attempts).toBeLessThanOrEqual(4);
    expect(doc.tenants.filter((t) => t.attempts !== undefined).map((t) => t.id)).toEqual(['rt2']);
    expect(r.stderr).toMatch(/rt2: failed on attempt 1 .*trying again/);
  });

  it('--lock-retries 0 fails the tenant at once; with retries used up the result says how many attempts were made', async () => {
    const f = await fleet('rn');
    f.proj.add('1700000010000_flag', '-- Up Migration\nALTER TABLE customers ADD COLUMN retry_flag int;\n');
    const app = await reader('rn_rn2.customers');
    const none = await f.cli(['migrate', '--lock-retries', '0', '--json']);
    expect(none.code).toBe(1);
    const rn2 = none.json<MigrateJson>().tenants.find((t) => t.id === 'rn2')!;
    expect(rn2).toMatchObject({ status: 'failed', error: expect.stringMatching(/lock timeout/) });
    expect(rn2.attempts).toBeUndefined();
    const used = await f.cli(['migrate', '--lock-retries', '2', '--json']);
    expect(used.code).toBe(1);
    expect(used.json<MigrateJson>().tenants.find((t) => t.id === 'rn2')).toMatchObject({ status: 'failed', attempts: 3 });
    await app.query('COMMIT');
    await app.end();
    const cols = await db.pool.query(
      `SELECT 1 FROM information_schema.columns WHERE table_schema = 'rn_rn2' AND column_name = 'retry_flag'`,
    );
    expect(cols.rowCount).toBe(0);
  });

  it('config lockRetries sets the default; a retried non-transactional migration goes on from what its first attempt built', async () => {
    const f = await fleet('ro', { lockRetries: 5 });
    writeFileSync(
      join(f.proj.tenant, '1700000010000_online.js'),
      "export const up = (pgm) => {\n  pgm.noTransaction();\n  pgm.createIndex('projects', 'name', { concurrently: true, name: 'projects_name_ro' });\n  pgm.sql('ALTER TABLE customers ADD COLUMN online_flag int');\n};\n",
    );
    const app = await reader('ro_ro2.customers');
    const run = f.cli(['migrate', '--concurrency', '1', '--json']);
    await queuedTimes('online_flag', 3);
    await app.query('COMMIT');
    await app.end();
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    const ro2 = r.json<MigrateJson>().tenants.find((t) => t.id === 'ro2')!;
    expect(ro2).toMatchObject({ status: 'migrated', applied: ['1700000010000_online'] });
    expect(ro2.attempts).toBeGreaterThanOrEqual(3);
    expect(r.stderr).toMatch(/ro2: 1700000010000_online: index projects_name_ro is already built and valid/);
    const journal = await db.pool.query(
      `SELECT count(*)::int AS n FROM ctl_ro.tenant_migrations WHERE tenant_id = 'ro2' AND name = '1700000010000_online'`,
    );
    expect(journal.rows[0].n).toBe(1);
  });

  it('a deadlock with an application transaction is retried too', async () => {
    const f = await fleet('dl', { lockTimeout: '30s' });
    f.proj.add(
      '1700000010000_both',
      '-- Up Migration\nALTER TABLE customers ADD COLUMN dl_a int;\nALTER TABLE projects ADD COLUMN dl_b int;\n',
    );
    // The application holds projects; the migration takes customers, then queues for projects; the application then reads customers.
    const app = new pg.Client({ connectionString: db.url });
    await app.connect();
    await app.query('BEGIN');
    await app.query('LOCK TABLE dl_dl2.projects IN SHARE MODE');
    const run = f.cli(['migrate', '--concurrency', '1', '--json']);
    await queuedTimes('dl_b', 1);
    await app.query('SELECT count(*) FROM dl_dl2.customers');
    await app.query('COMMIT');
    await app.end();
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    const dl2 = r.json<MigrateJson>().tenants.find((t) => t.id === 'dl2')!;
    expect(dl2).toMatchObject({ status: 'migrated', attempts: 2 });
    expect(r.stderr).toMatch(/dl2: failed on attempt 1/);
  });

  it('bad values are refused with exit 2, naming the flag or key', async () => {
    const f = await fleet('rb');
    const flag = await f.cli(['migrate', '--lock-retries', 'many', '--json']);
    expect(flag.code).toBe(2);
    expect(flag.json<{ error: { code: string; message: string } }>().error).toMatchObject({
      code: 'usage',
      message: expect.stringMatching(/--lock-retries/),
    });
    writeFileSync(join(f.proj.dir, 'bad.json'), JSON.stringify({ lockRetries: -1 }));
    const config = await f.cli(['--config', 'bad.json', 'migrate', '--json']);
    expect(config.code).toBe(2);
    expect(config.json<{ error: { code: string; message: string } }>().error).toMatchObject({
      code: 'invalid_config',
      message: expect.stringMatching(/"lockRetries" must be an integer from 0 to 100/),
    });
  });
});
