import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, withTenant } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';

let db: TestDatabase;
const ids = ['t1', 't2', 't3', 't4', 't5', 't6'];
beforeAll(async () => {
  db = await createTestDatabase();
  const tc = await openOn(db.url);
  try {
    const r = await createTenants(tc, { ids, concurrency: 3 });
    expect(r.summary.failed).toBe(0);
  } finally {
    await tc.close();
  }
});
afterAll(async () => {
  await db.drop();
});

interface Seen {
  user: string;
  path: string;
  key: string | null;
  id: string | null;
}

const probe = `SELECT current_user AS user, current_setting('search_path') AS path,
  current_setting('tenantctl.tenant_key', true) AS key, current_setting('tenantctl.tenant_id', true) AS id`;

describe('withTenant on a small shared pool', () => {
  it('never lets a connection carry another tenant into a transaction or back to the pool', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 3 });
    const defaults = (await pool.query<Seen>(probe)).rows[0]!;
    const mistakes: string[] = [];
    const jobs = Array.from({ length: 240 }, (_, i) => ids[i % ids.length]!);
    await Promise.all(
      jobs.map(async (id, i) => {
        try {
          await withTenant(pool, id, async (client) => {
            const seen = (await client.query<Seen>(probe)).rows[0]!;
            if (seen.id !== id || seen.key !== id || !seen.path.startsWith(`tenant_${id},`) || !seen.user.endsWith(`_${id}`)) {
              mistakes.push(`${id} saw ${JSON.stringify(seen)}`);
            }
            // Rows written land in the tenant's own table, ownership from the key setting.
            await client.query(`INSERT INTO customers (name) VALUES ($1)`, [`c${i}`]);
            // Misbehaving application code: session-level settings, a failing statement now and then.
            if (i % 5 === 0) await client.query(`SET search_path TO public`);
            if (i % 7 === 0) await client.query(`SET tenantctl.tenant_key = 'leak'`);
            if (i % 11 === 0) throw new Error('application error');
          });
        } catch (err) {
          if ((err as Error).message !== 'application error') throw err;
        }
      }),
    );
    expect(mistakes).toEqual([]);
    // Every pooled connection is back to the session defaults.
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
    for (const c of clients) {
      const seen = (await c.query<Seen>(probe)).rows[0]!;
      expect(seen.user).toBe(defaults.user);
      expect(seen.path).toBe(defaults.path);
      expect(seen.key ?? '').toBe('');
      c.release();
    }
    await pool.end();
    // Ownership held: every customer row sits in its tenant's schema with its key; failed transactions left nothing.
    for (const id of ids) {
      const rows = await db.pool.query(`SELECT DISTINCT tenant_id FROM "tenant_${id}".customers`);
      expect(rows.rows).toEqual([{ tenant_id: id }]);
    }
    const total = await db.pool.query(ids.map((id) => `SELECT count(*)::int AS n FROM "tenant_${id}".customers`).join(' UNION ALL '));
    const expected = jobs.filter((_, i) => i % 11 !== 0).length;
    expect(total.rows.reduce((n, r) => n + r.n, 0)).toBe(expected);
  });

  it('a temporary table made for one tenant never shadows another tenant\'s table', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    await withTenant(pool, 't1', async (c) => {
      await c.query(`INSERT INTO customers (name) VALUES ('only-t1')`);
      await c.query(`CREATE TEMP TABLE customers AS SELECT * FROM tenant_t1.customers`);
    });
    const seen = await withTenant(pool, 't2', async (c) => (await c.query(`SELECT DISTINCT tenant_id FROM customers`)).rows);
    expect(seen).toEqual([{ tenant_id: 't2' }]);
    await pool.end();
  });

  it('refuses an unknown or archived tenant before running fn', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    let ran = false;
    await expect(withTenant(pool, 'ghost', async () => void (ran = true))).rejects.toThrow(/no active tenant "ghost"/);
    await expect(withTenant(pool, 'Bad Id', async () => void (ran = true))).rejects.toThrow(/invalid tenant id/);
    expect(ran).toBe(false);
    await pool.end();
  });
});
