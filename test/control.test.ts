import { CONTROL_SCHEMA_VERSION } from '../src/control/ddl.js';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlLockKeys } from '../src/db/locks.js';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe('control schema', () => {
  it('two or more first runs racing each other create it exactly once', async () => {
    const cli = cliOn(db.url);
    // Hold the control schema's lock so that the runs queue on it together: they overlap.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query(`SELECT pg_advisory_lock(${controlLockKeys('tenantctl')})`);
    const all = Promise.all([
      cli(['init', '--json']),
      cli(['init', '--json']),
      cli(['tenant', 'create', 'first']),
      cli(['tenant', 'create', 'second']),
    ]);
    let waiting = 0;
    for (let i = 0; i < 3000 && waiting < 2; i++) {
      const r = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      waiting = r.rows[0]!.n;
      if (waiting < 2) await sleep(20);
    }
    expect(waiting).toBeGreaterThanOrEqual(2);
    await holder.query('SELECT pg_advisory_unlock_all()');
    await holder.end();
    const runs = await all;
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const created = runs.slice(0, 2).map((r) => r.json<{ upgradedFrom: number }>().upgradedFrom);
    expect(created.filter((v) => v === 0).length).toBeLessThanOrEqual(1);
    const version = await db.pool.query(`SELECT value FROM tenantctl.meta WHERE key = 'schema_version'`);
    expect(version.rows).toEqual([{ value: String(CONTROL_SCHEMA_VERSION) }]);
    const plans = await db.pool.query('SELECT count(*)::int AS n FROM public.plans');
    expect(plans.rows[0].n).toBe(3);
    const shared = await db.pool.query('SELECT count(*)::int AS n FROM tenantctl.shared_migrations');
    expect(shared.rows[0].n).toBe(1);
  });

  it('refuses a control schema newer than this tenantctl', async () => {
    await db.pool.query(`UPDATE tenantctl.meta SET value = '99' WHERE key = 'schema_version'`);
    const r = await cliOn(db.url)(['tenant', 'list']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`version 99, newer than this tenantctl knows (${CONTROL_SCHEMA_VERSION}); upgrade tenantctl`);
    await db.pool.query(`UPDATE tenantctl.meta SET value = '2' WHERE key = 'schema_version'`);
  });
});
