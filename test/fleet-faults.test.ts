import { writeFileSync } from 'node:fs';
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
  tenants: { id: string; status: string; error?: string }[];
  summary: { migrated: number; upToDate: number; failed: number; skipped: number };
}

async function fleet(name: string, tenants: string[], config: Record<string, unknown> = {}) {
  const proj = scratchProject();
  writeFileSync(
    `${proj.dir}/tenantctl.config.json`,
    JSON.stringify({ controlSchema: `ctl_${name}`, schemaPrefix: `${name}_`, sharedSchema: `${name}_shared`, ...config }),
  );
  const cli = cliOn(db.url, { cwd: proj.dir });
  expect((await cli(['tenant', 'create', ...tenants])).code).toBe(0);
  return { proj, cli };
}

describe('faults during a fleet run', () => {
  it('lockTimeout: a tenant whose table is busy fails fast and stays whole; the others migrate', async () => {
    const f = await fleet('busy', ['b1', 'b2', 'b3'], { lockTimeout: '300ms' });
    f.proj.add(
      '1700000010000_alter',
      '-- Up Migration\nALTER TABLE projects ADD COLUMN busy_flag int;\nALTER TABLE customers ADD COLUMN busy_flag int;\n',
    );
    const app = new pg.Client({ connectionString: db.url });
    await app.connect();
    await app.query('BEGIN');
    await app.query('SELECT count(*) FROM busy_b2.customers'); // holds ACCESS SHARE until COMMIT
    const started = Date.now();
    const r = await f.cli(['migrate', '--json']);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.code).toBe(1);
    const doc = r.json<MigrateJson>();
    expect(doc.tenants.find((t) => t.id === 'b2')).toMatchObject({ status: 'failed', error: expect.stringMatching(/lock timeout/) });
    expect(doc.summary).toMatchObject({ migrated: 2, failed: 1 });
    const cols = await db.pool.query(
      `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_schema = 'busy_b2' AND column_name = 'busy_flag'`,
    );
    expect(cols.rows[0].n).toBe(0);
    await app.query('COMMIT');
    await app.end();
    expect((await f.cli(['migrate'])).code).toBe(0);
  });

  it('a terminated backend fails that tenant only; the run goes on with a new connection and the rerun finishes', async () => {
    const f = await fleet('term', ['t1', 't2', 't3', 't4'], { roles: false });
    f.proj.add('1700000010000_slow', '-- Up Migration\nCREATE TABLE slow_marker (id int);\nSELECT pg_sleep(0.6);\n');
    const run = f.cli(['migrate', '--concurrency', '1', '--json']);
    let killed = 0;
    for (let i = 0; i < 100 && killed === 0; i++) {
      await sleep(50);
      const r = await db.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tenantctl' AND query LIKE '%pg_sleep(0.6)%'`,
      );
      killed = r.rowCount ?? 0;
    }
    expect(killed).toBe(1);
    const r = await run;
    expect(r.code).toBe(1);
    const doc = r.json<MigrateJson>();
    expect(doc.summary).toEqual({ migrated: 3, upToDate: 0, failed: 1, skipped: 0 });
    expect(doc.tenants.find((t) => t.status === 'failed')!.error).toMatch(/terminat|connection/i);
    const markers = await db.pool.query(
      `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'slow_marker' AND n.nspname LIKE 'term\\_%'`,
    );
    expect(markers.rows[0].n).toBe(3);
    const rerun = await f.cli(['migrate', '--json']);
    expect(rerun.code).toBe(0);
    expect(rerun.json<MigrateJson>().summary).toEqual({ migrated: 1, upToDate: 3, failed: 0, skipped: 0 });
  });

  it('a migration that sets something for the whole session does not carry it to the next tenant on that connection', async () => {
    const f = await fleet('sess', ['s1', 's2', 's3'], { roles: false });
    f.proj.add(
      '1700000010000_leaky',
      "-- Up Migration\nCREATE TABLE seen AS SELECT current_setting('app.leak', true) AS v;\nSELECT set_config('app.leak', current_schema(), false);\n",
    );
    const r = await f.cli(['migrate', '--concurrency', '1']);
    expect(r.code, r.stderr).toBe(0);
    for (const id of ['s1', 's2', 's3']) {
      const seen = await db.pool.query(`SELECT v FROM sess_${id}.seen`);
      expect([id, seen.rows[0].v ?? '']).toEqual([id, '']);
    }
  });
});
