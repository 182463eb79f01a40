import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, withTenant } from '../src/index.js';
import { cliOn, REPO } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { scratchDir } from './support/scratch.js';

// A move on a tenant the application keeps writing to: the move completes, and
// every row ends up in exactly one place.

let db: TestDatabase;
const ORIGINAL = 300;

beforeAll(async () => {
  db = await createTestDatabase();
  const tc = await openOn(db.url);
  try {
    const r = await createTenants(tc, { ids: ['src', 'dst'] });
    expect(r.summary.failed).toBe(0);
  } finally {
    await tc.close();
  }
  await db.pool.query(`
    INSERT INTO tenant_src.customers (id, tenant_id, name) OVERRIDING SYSTEM VALUE SELECT g, 'src', 'c' || g FROM generate_series(1, ${ORIGINAL}) g;
    SELECT setval(pg_get_serial_sequence('tenant_src.customers', 'id'), ${ORIGINAL});
    INSERT INTO tenant_src.projects (tenant_id, customer_id, name) SELECT 'src', c.id, 'p' || c.id || '-' || g FROM tenant_src.customers c, generate_series(1, 2) g;`);
});
afterAll(async () => {
  await db?.drop();
});

/**
 * The application: every 5 ms one transaction on the source tenant that updates
 * an original customer (one the moves take away) and inserts a new customer with
 * a project. It runs until stopped; every write it committed is recorded.
 */
function startWriter() {
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  pool.on('error', () => undefined);
  const inserted: number[] = [];
  const errors: string[] = [];
  let writes = 0;
  let running = true;
  const loop = (async () => {
    for (let n = 0; running; n++) {
      const tick = new Promise((resolve) => setTimeout(resolve, 5));
      try {
        const id = await withTenant(pool, 'src', async (c) => {
          await c.query(`UPDATE customers SET email = $1 WHERE id = $2`, [`w${n}@example.com`, 1 + ((n * 37) % ORIGINAL)]);
          const row = await c.query<{ id: string }>(`INSERT INTO customers (name) VALUES ($1) RETURNING id`, [`live${n}`]);
          await c.query(`INSERT INTO projects (customer_id, name) VALUES ($1, $2)`, [row.rows[0]!.id, `live${n}`]);
          return Number(row.rows[0]!.id);
        });
        inserted.push(id);
        writes++;
      } catch (err) {
        errors.push((err as Error).message);
      }
      await tick;
    }
  })();
  return {
    inserted,
    errors,
    writes: () => writes,
    async stop() {
      running = false;
      await loop;
      await pool.end();
    },
  };
}

describe('move under live writes', () => {
  it('completes every time while the application writes to the source every 5 ms; nothing lost, nothing duplicated', async () => {
    const cli = cliOn(db.url);
    const writer = startWriter();
    const during: number[] = [];
    try {
      // Let the writer get going first, so that the moves start against a busy tenant.
      const deadline = Date.now() + 10_000;
      while (writer.writes() < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(writer.writes()).toBeGreaterThanOrEqual(5);
      for (const [lo, hi] of [
        [1, 100],
        [101, 200],
        [201, 300],
      ] as const) {
        const start = writer.writes();
        const r = await cli([
          'move',
          '--from',
          'src',
          '--to',
          'dst',
          '--table',
          'customers',
          '--where',
          `id BETWEEN ${lo} AND ${hi}`,
          '--json',
        ]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.json()).toMatchObject({ status: 'moved', rows: 300, deleted: 300 });
        during.push(writer.writes() - start);
      }
    } finally {
      await writer.stop();
    }
    expect(writer.errors).toEqual([]);
    // The writer kept committing while the moves ran (it waits while a move holds the source, then goes on).
    expect(during.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

    const q = async (sql: string) => (await db.pool.query(sql)).rows;
    // Every original customer and project is in the target once, and no longer in the source.
    expect(
      await q(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS d, min(id)::int AS lo, max(id)::int AS hi FROM tenant_dst.customers`),
    ).toEqual([{ n: ORIGINAL, d: ORIGINAL, lo: 1, hi: ORIGINAL }]);
    expect(await q(`SELECT count(*)::int AS n FROM tenant_src.customers WHERE id <= ${ORIGINAL}`)).toEqual([{ n: 0 }]);
    expect(await q(`SELECT count(*)::int AS n, count(DISTINCT (customer_id, name))::int AS d FROM tenant_dst.projects`)).toEqual([
      { n: 2 * ORIGINAL, d: 2 * ORIGINAL },
    ]);
    expect(await q(`SELECT count(*)::int AS n FROM tenant_src.projects WHERE customer_id <= ${ORIGINAL}`)).toEqual([{ n: 0 }]);
    expect(await q(`SELECT DISTINCT tenant_id FROM tenant_dst.customers UNION SELECT DISTINCT tenant_id FROM tenant_dst.projects`)).toEqual(
      [{ tenant_id: 'dst' }],
    );
    // Every row the application wrote is still in the source, with its project, and nowhere else.
    const live = await q(
      `SELECT c.id::int AS id FROM tenant_src.customers c JOIN tenant_src.projects p ON p.customer_id = c.id ORDER BY c.id`,
    );
    expect(live.map((r) => r.id)).toEqual([...writer.inserted].sort((a, b) => a - b));
    expect(await q(`SELECT count(*)::int AS n FROM tenant_dst.customers WHERE name LIKE 'live%'`)).toEqual([{ n: 0 }]);
  });

  it('waits for a writer that holds the source past lockTimeout, and retries with backoff: attempts in the result', async () => {
    const dir = scratchDir('live');
    writeFileSync(
      join(dir, 'tenantctl.config.json'),
      JSON.stringify({
        lockTimeout: '300ms',
        tenantMigrations: join(REPO, 'migrations/tenant'),
        sharedMigrations: join(REPO, 'migrations/shared'),
      }),
    );
    await db.pool.query(`INSERT INTO tenant_src.customers (name, tenant_id) VALUES ('held', 'src')`);
    // An application transaction that keeps a write open on the source.
    const blocker = await db.pool.connect();
    await blocker.query(`BEGIN; UPDATE tenant_src.customers SET email = 'held@example.com' WHERE name = 'held'`);
    const move = cliOn(db.url, { cwd: dir })([
      'move',
      '--from',
      'src',
      '--to',
      'dst',
      '--table',
      'customers',
      '--where',
      `name = 'held'`,
      '--json',
    ]);
    // Watch the move wait for its LOCK, time out, and wait again on a second attempt; then let the writer commit.
    const waits = new Set<string>();
    const deadline = Date.now() + 30_000;
    while (waits.size < 2 && Date.now() < deadline) {
      const r = await db.pool.query<{ started: string }>(
        `SELECT query_start::text AS started FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND position('IN EXCLUSIVE MODE' IN query) > 0`,
      );
      for (const row of r.rows) waits.add(row.started);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await blocker.query('COMMIT');
    blocker.release();
    expect(waits.size, 'the move never waited twice for the source').toBe(2);
    const r = await move;
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ status: 'moved', rows: 1, deleted: 1 });
    expect(r.json<{ attempts: number }>().attempts).toBeGreaterThanOrEqual(2);
    expect((await db.pool.query(`SELECT email FROM tenant_dst.customers WHERE name = 'held'`)).rows).toEqual([
      { email: 'held@example.com' },
    ]);
    expect((await db.pool.query(`SELECT 1 FROM tenant_src.customers WHERE name = 'held'`)).rowCount).toBe(0);
  });
});
