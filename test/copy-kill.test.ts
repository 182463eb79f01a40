import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants } from '../src/index.js';
import { BIN, cliOn, REPO } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';

const TABLES = ['customers', 'projects', 'tasks', 'invoices'];
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  const tc = await openOn(db.url);
  try {
    await createTenants(tc, { ids: ['big', 'dest'] });
  } finally {
    await tc.close();
  }
  // about 260,000 rows: a move of a second or more on a small machine
  await db.pool.query(`
    INSERT INTO tenant_big.customers (tenant_id, name) SELECT 'big', 'c' || g FROM generate_series(1, 20000) g;
    INSERT INTO tenant_big.projects (tenant_id, customer_id, name) SELECT 'big', c.id, 'p' || c.id || '-' || g FROM tenant_big.customers c, generate_series(1, 2) g;
    INSERT INTO tenant_big.tasks (tenant_id, project_id, title) SELECT 'big', p.id, 't' || g FROM tenant_big.projects p, generate_series(1, 4) g;
    INSERT INTO tenant_big.invoices (tenant_id, customer_id, amount_cents) SELECT 'big', c.id, g FROM tenant_big.customers c, generate_series(1, 2) g;
    ANALYZE;`);
});

afterAll(async () => {
  await db?.drop();
});

/** Per table: row count and a digest of every row without its ownership column. */
async function state(id: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of TABLES) {
    const r = await db.pool.query<{ s: string }>(
      `SELECT count(*) || ':' || coalesce(md5(string_agg((to_jsonb(t) - 'tenant_id')::text, ',' ORDER BY t.id)), '') AS s FROM "tenant_${id}"."${t}" t`,
    );
    out[t] = r.rows[0]!.s;
  }
  return out;
}

const EMPTY = Object.fromEntries(TABLES.map((t) => [t, '0:']));

/**
 * Starts `tenantctl move` as a user would, waits until the server is running
 * one of its statements that matches `phase`, and kills the CLI with SIGKILL.
 * Then waits for the server to notice and end that session.
 */
async function killDuring(phase: RegExp): Promise<string> {
  const child = spawn(process.execPath, [BIN, '--database-url', db.url, 'move', '--from', 'big', '--to', 'dest'], {
    cwd: REPO,
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let seen = '';
  let pid = 0;
  const deadline = Date.now() + 60_000;
  while (!seen && Date.now() < deadline) {
    const r = await db.pool.query<{ pid: number; query: string }>(
      `SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tenantctl' AND state = 'active'`,
    );
    const hit = r.rows.find((row) => phase.test(row.query));
    if (hit) {
      child.kill('SIGKILL');
      seen = hit.query.slice(0, 60);
      pid = hit.pid;
    } else await sleep(5);
  }
  await exited;
  expect(seen, 'the move never reached the statement to interrupt').not.toBe('');
  for (let i = 0; i < 1200; i++) {
    const r = await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1`, [pid]);
    if (r.rowCount === 0) break;
    await sleep(50);
  }
  return seen;
}

describe('kill -9 during a large move', () => {
  it('while rows are being inserted: both tenants are exactly as before', async () => {
    const before = { big: await state('big'), dest: await state('dest') };
    expect(before.dest).toEqual(EMPTY);
    const seen = await killDuring(/^INSERT INTO "tenant_dest"\."tasks"/);
    expect(seen).toMatch(/INSERT INTO "tenant_dest"/);
    expect({ big: await state('big'), dest: await state('dest') }).toEqual(before);
  });

  it('while rows are being deleted: exactly before or exactly after, and the next run finishes the job', async () => {
    const before = { big: await state('big'), dest: await state('dest') };
    const seen = await killDuring(/^DELETE FROM "tenant_big"\./);
    expect(seen).toMatch(/DELETE FROM "tenant_big"/);
    const now = { big: await state('big'), dest: await state('dest') };
    const after = { big: EMPTY, dest: before.big };
    expect([before, after]).toContainEqual(now);

    const cli = cliOn(db.url);
    const done = await cli(['move', '--from', 'big', '--to', 'dest', '--json']);
    expect(done.code).toBe(0);
    const moved = JSON.stringify(now) === JSON.stringify(before) ? 260000 : 0;
    expect(done.json()).toMatchObject({ status: 'moved', rows: moved, deleted: moved });
    expect({ big: await state('big'), dest: await state('dest') }).toEqual(after);
    const dest = await db.pool.query(`SELECT count(*)::int AS n FROM tenant_dest.tasks WHERE tenant_id <> 'dest'`);
    expect(dest.rows[0].n).toBe(0);
  });
});
