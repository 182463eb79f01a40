// kill -9 of a process in the middle of relocateOnCitus: the tenant is on one worker or the other, never
// between (Citus switches the placement in one transaction and cleans up after an aborted move), its rows are
// all there, and the same relocation run again finishes the job.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, cliOn } from '../support/cli.js';
import { citusProject, createCitusDatabase, type CitusDatabase } from './support.js';

let db: CitusDatabase;
let project: { dir: string; remove(): void };
const cli = (args: string[]) => cliOn(db.url, { cwd: project.dir })(args);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

beforeAll(async () => {
  db = await createCitusDatabase();
  project = citusProject();
  expect((await cli(['init'])).code).toBe(0);
  expect((await cli(['tenant', 'create', 'big'])).code).toBe(0);
  await db.pool.query(
    `INSERT INTO tenant_big.customers (tenant_id, name) SELECT 'big', g || repeat('x', 300) FROM generate_series(1, 150000) g`,
  );
});

afterAll(async () => {
  await db?.drop();
  project?.remove();
});

async function ports(): Promise<number[]> {
  const r = await db.pool.query<{ port: number }>(
    `SELECT DISTINCT nodeport AS port FROM citus_shards WHERE citus_table_type = 'schema' AND table_name::text LIKE 'tenant_big.%' ORDER BY 1`,
  );
  return r.rows.map((row) => row.port);
}

/** A process that relocates the tenant through the library, as an application or the CLI would. */
function relocator(to: string) {
  const script = `import { openTenantctl, relocateOnCitus } from ${JSON.stringify(join(REPO, 'dist/src/index.js'))};
const tc = await openTenantctl({ databaseUrl: ${JSON.stringify(db.url)}, cwd: ${JSON.stringify(project.dir)} });
await relocateOnCitus(tc, { id: 'big', to: ${JSON.stringify(to)} });
await tc.close();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
  return { child, exited: new Promise<void>((resolve) => child.on('exit', () => resolve())) };
}

/** Polls until Citus reports the tenant's shards being copied; returns the moving backend's pid. */
async function moveUnderWay(): Promise<number> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const r = await db.pool.query<{ pid: number }>(
      `SELECT a.pid FROM pg_stat_activity a WHERE a.datname = current_database() AND a.query LIKE '%citus_schema_move%' AND a.pid <> pg_backend_pid()
          AND EXISTS (SELECT 1 FROM get_rebalance_progress() p WHERE p.target_shard_size > 0)`,
    );
    if (r.rows[0]) return r.rows[0].pid;
    await sleep(5);
  }
  throw new Error('the move never got under way');
}

async function gone(pid: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  while ((await db.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount !== 0) {
    if (Date.now() > deadline) throw new Error(`backend ${pid} still running`);
    await sleep(20);
  }
}

describe('kill -9 in the middle of a relocation', () => {
  it('leaves the tenant whole on one worker, and the same relocation run again finishes', async () => {
    const [from] = await ports();
    const target = db.workers.find((w) => w.port !== from)!;
    const to = `${target.host}:${target.port}`;
    const rows = (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tenant_big.customers')).rows[0]!.n;
    const { child, exited } = relocator(to);
    const pid = await moveUnderWay();
    child.kill('SIGKILL');
    await exited;
    await gone(pid);
    const after = await ports();
    expect(after).toHaveLength(1);
    expect([from, target.port]).toContain(after[0]);
    expect((await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tenant_big.customers')).rows[0]!.n).toBe(rows);
    const again = relocator(to);
    await again.exited;
    expect(again.child.exitCode).toBe(0);
    expect(await ports()).toEqual([target.port]);
    expect((await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tenant_big.customers')).rows[0]!.n).toBe(rows);
    const show = await cli(['tenant', 'show', 'big', '--json']);
    expect(show.json<{ tenant: { placement: { port: number } } }>().tenant.placement.port).toBe(target.port);
  });
});
