// Interrupting a CREATE INDEX CONCURRENTLY mid-build (kill -9 of the CLI, pg_terminate_backend of the
// build): nothing is recorded, the index is left INVALID, and the next run drops it and builds it again.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliOn } from './support/cli.js';
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
  tenants: { id: string; status: string; applied: string[]; error: string | null; repaired?: string[] }[];
  summary: { migrated: number; upToDate: number; failed: number; skipped: number };
}

const BUILD = '1700000011000_slow_key_index';

/**
 * Three tenants; the middle one has 200,000 customers and an index whose key is
 * slow to compute, so its CONCURRENTLY build takes seconds: long enough to be
 * caught mid-build, and to outlast the second the server takes to notice a
 * killed client (client_connection_check_interval) on a loaded machine.
 */
async function fleet(name: string) {
  const proj = scratchProject();
  const control = `ctl_${name}`;
  writeFileSync(
    join(proj.dir, 'tenantctl.config.json'),
    JSON.stringify({ controlSchema: control, schemaPrefix: `${name}_`, sharedSchema: `${name}_shared`, roles: false }),
  );
  const cli = cliOn(db.url, { cwd: proj.dir });
  const ids = [`${name}1`, `${name}2`, `${name}3`];
  expect((await cli(['tenant', 'create', ...ids])).code).toBe(0);
  proj.add(
    '1700000010000_slow_key',
    '-- Up Migration\nCREATE FUNCTION slow_key(t text) RETURNS text IMMUTABLE LANGUAGE sql AS $$ SELECT md5(repeat(t, 600)) $$;\n',
  );
  expect((await cli(['migrate'])).code).toBe(0);
  await db.pool.query(
    `INSERT INTO ${name}_${name}2.customers (tenant_id, name) SELECT '${name}2', 'customer ' || g FROM generate_series(1, 200000) g`,
  );
  writeFileSync(
    join(proj.tenant, `${BUILD}.js`),
    "export const up = (pgm) => {\n  pgm.noTransaction();\n  pgm.createIndex('customers', 'slow_key(name)', { concurrently: true, name: 'customers_slow_key' });\n};\n",
  );
  const journal = async (id: string) =>
    (await db.pool.query(`SELECT count(*)::int AS n FROM ${control}.tenant_migrations WHERE tenant_id = $1 AND name = $2`, [id, BUILD]))
      .rows[0].n as number;
  const valid = async (id: string) =>
    (
      await db.pool.query<{ valid: boolean }>(
        `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'customers_slow_key'`,
        [`${name}_${id}`],
      )
    ).rows[0]?.valid;
  return { proj, cli, ids, control, journal, valid };
}

/** Waits until a backend is building the index (scanning the table), under the tenant's advisory lock; returns its pid. */
async function buildUnderWay(schema: string, control: string, tenant: string): Promise<number> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const r = await db.pool.query<{ pid: number; locked: boolean }>(
      `SELECT p.pid, EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = p.pid AND l.locktype = 'advisory' AND l.granted
                              AND l.classid::int = hashtext('tenantctl:' || $2::text) AND l.objid::int = hashtext($3::text)) AS locked
         FROM pg_stat_progress_create_index p JOIN pg_class c ON c.oid = p.relid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE p.datname = current_database() AND n.nspname = $1 AND p.command = 'CREATE INDEX CONCURRENTLY' AND p.phase LIKE 'building index%'`,
      [schema, control, tenant],
    );
    if (r.rows[0]) {
      expect(r.rows[0].locked, "the build runs under the tenant's lock").toBe(true);
      return r.rows[0].pid;
    }
    await sleep(5);
  }
  throw new Error('the build never got under way');
}

async function gone(pid: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await db.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount !== 0) {
    if (Date.now() > deadline) throw new Error(`backend ${pid} still running`);
    await sleep(20);
  }
}

describe('interrupting CREATE INDEX CONCURRENTLY', () => {
  it('kill -9 of tenantctl mid-build: the server stops the orphaned build, nothing is recorded, the next run drops the INVALID index and builds it again', async () => {
    const f = await fleet('kk');
    const child = spawn(process.execPath, [BIN, '--database-url', db.url, 'migrate', '--concurrency', '1'], {
      cwd: f.proj.dir,
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const pid = await buildUnderWay('kk_kk2', f.control, 'kk2');
    child.kill('SIGKILL');
    await exited;
    // No one is left to read the answer: the server notices the client is gone and ends the build.
    await gone(pid);
    expect(await f.valid('kk2')).toBe(false);
    expect(await f.journal('kk2')).toBe(0);

    const status = await f.cli(['migrate', 'status', '--json']);
    expect(
      status.json<{ tenants: { id: string; invalidIndexes: string[]; pending: string[] }[] }>().tenants.find((t) => t.id === 'kk2'),
    ).toMatchObject({
      pending: [BUILD],
      invalidIndexes: ['customers_slow_key'],
    });
    const r = await f.cli(['migrate', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<MigrateJson>().tenants.find((t) => t.id === 'kk2')).toMatchObject({
      status: 'migrated',
      applied: [BUILD],
      repaired: ['customers_slow_key'],
    });
    for (const id of f.ids) {
      expect(await f.valid(id)).toBe(true);
      expect(await f.journal(id)).toBe(1);
    }
  });

  it('pg_terminate_backend of the build: that tenant fails, the others migrate; the next run drops the INVALID index and builds it again', async () => {
    const f = await fleet('tt');
    const run = f.cli(['migrate', '--concurrency', '1', '--json']);
    const pid = await buildUnderWay('tt_tt2', f.control, 'tt2');
    await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    const r = await run;
    expect(r.code).toBe(1);
    const doc = r.json<MigrateJson>();
    expect(doc.summary).toEqual({ migrated: 2, upToDate: 0, failed: 1, skipped: 0 });
    expect(doc.tenants.find((t) => t.id === 'tt2')!.error).toMatch(/terminat|connection/i);
    expect(await f.valid('tt2')).toBe(false);
    expect(await f.journal('tt2')).toBe(0);

    const again = await f.cli(['migrate', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json<MigrateJson>().tenants.find((t) => t.id === 'tt2')).toMatchObject({
      status: 'migrated',
      applied: [BUILD],
      repaired: ['customers_slow_key'],
    });
    for (const id of f.ids) {
      expect(await f.valid(id)).toBe(true);
      expect(await f.journal(id)).toBe(1);
    }
  });
});
