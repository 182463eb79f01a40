import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
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

  it("a temporary table made for one tenant never shadows another tenant's table", async () => {
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

/** What one pooled connection still holds, read on that connection. */
const held = `SELECT session_user::text AS session_user, current_user::text AS current_user,
  current_setting('search_path') AS path,
  coalesce(current_setting('tenantctl.tenant_id', true), '') AS tenant_id,
  coalesce(current_setting('tenantctl.tenant_key', true), '') AS tenant_key,
  (SELECT count(*) FROM pg_catalog.pg_cursors)::int AS cursors,
  (SELECT count(*) FROM pg_catalog.pg_prepared_statements)::int AS prepared,
  (SELECT count(*) FROM pg_catalog.pg_listening_channels())::int AS listening,
  (SELECT count(*) FROM pg_catalog.pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory')::int AS advisory,
  (SELECT count(*) FROM pg_catalog.pg_class WHERE relnamespace = pg_my_temp_schema())::int AS temp_relations,
  (SELECT coalesce(string_agg(name, ',' ORDER BY name), '') FROM pg_catalog.pg_settings WHERE source = 'session') AS session_settings,
  current_setting('default_transaction_read_only') AS read_only,
  current_setting('default_transaction_isolation') AS isolation`;

interface Held {
  session_user: string;
  current_user: string;
  path: string;
  tenant_id: string;
  tenant_key: string;
  cursors: number;
  prepared: number;
  listening: number;
  advisory: number;
  temp_relations: number;
  session_settings: string;
  read_only: string;
  isolation: string;
}

/**
 * Everything application code can leave on a session from inside a transaction,
 * one step per kind; each call does a few of them, chosen by its number, in this
 * order (those that change who the session is or what it sees come last).
 */
const leaks: ((c: pg.PoolClient, i: number, role: string) => Promise<unknown>)[] = [
  (c) => c.query(`DECLARE leak_c CURSOR WITH HOLD FOR SELECT * FROM customers`),
  (c, i) => c.query(`PREPARE leak_p${i} AS SELECT * FROM customers`),
  (c, i) => c.query({ name: `leak_named_${i % 3}`, text: 'SELECT count(*) FROM customers' }),
  (c, i) => c.query(`CREATE TEMP TABLE leak_t${i} ON COMMIT PRESERVE ROWS AS SELECT * FROM customers`),
  (c) => c.query(`CREATE TEMP SEQUENCE leak_s; SELECT nextval('leak_s')`),
  (c) => c.query(`LISTEN leak_channel`),
  (c, i) => c.query(`SELECT pg_advisory_lock(424200 + $1::int), pg_advisory_lock_shared(424242)`, [i]),
  (c) => c.query(`SELECT set_config('tenantctl.tenant_key', 'leak', false), set_config('tenantctl.tenant_id', 'leak', false)`),
  (c) => c.query(`SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY`),
  (c) => c.query(`SET statement_timeout = '17s'; SET application_name = 'leak'; SET search_path TO public`),
  (c) => c.query(`SET ROLE NONE; SET session_replication_role = replica`),
  (c, _i, role) => c.query(`SET ROLE NONE; SET SESSION AUTHORIZATION "${role}"`),
  (c, _i, role) => c.query(`SET ROLE "${role}"`),
];

describe('withTenant under a storm of misbehaving callers', () => {
  it('gives every connection back holding nothing: no cursor, statement, role, setting, lock, channel or temp table', async () => {
    // A superuser pool: SET SESSION AUTHORIZATION is allowed, the worst case.
    const pool = new pg.Pool({ connectionString: db.url, max: 10 });
    pool.on('error', () => undefined);
    const pids = new Set<number>();
    const roles = (await db.pool.query<{ id: string; role: string }>(`SELECT id, role_name AS role FROM tenantctl.tenants`)).rows;
    const roleOf = new Map(roles.map((r) => [r.id, r.role]));
    const calls = 360;
    const outcomes = { ok: 0, appError: 0, swallowed: 0, commitFailed: 0 };
    await Promise.all(
      Array.from({ length: calls }, async (_, i) => {
        const id = ids[i % ids.length]!;
        const other = ids[(i + 1) % ids.length]!;
        try {
          await withTenant(pool, id, async (client) => {
            pids.add((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
            await client.query(`INSERT INTO customers (name) VALUES ($1)`, [`storm${i}`]);
            // A deferred check that fails at COMMIT itself: nothing after COMMIT in its message runs.
            if (i % 6 === 3)
              await client.query(
                `CREATE TEMP TABLE leak_d${i} (x int UNIQUE DEFERRABLE INITIALLY DEFERRED); INSERT INTO leak_d${i} VALUES (1), (1)`,
              );
            // Four kinds of leak per call, a different mix each time; another tenant's role for the role changes.
            const chosen = [...new Set(Array.from({ length: 4 }, (_, k) => (i * 7 + k * 5) % leaks.length))].sort((a, b) => a - b);
            for (const k of chosen) await leaks[k]!(client, i, roleOf.get(other)!);
            if (i % 6 === 1) throw new Error('application error');
            // A failing statement, swallowed: the transaction is aborted, COMMIT becomes ROLLBACK.
            if (i % 6 === 2) await client.query('SELECT 1 / 0').catch(() => undefined);
          });
          outcomes.ok++;
        } catch (err) {
          const message = (err as Error).message;
          if (message === 'application error') outcomes.appError++;
          else if (/failed inside fn and was rolled back/.test(message)) outcomes.swallowed++;
          else if ((err as { code?: string }).code === '23505') outcomes.commitFailed++;
          else throw err;
        }
      }),
    );
    expect(outcomes.appError + outcomes.swallowed + outcomes.commitFailed + outcomes.ok).toBe(calls);
    expect(outcomes.commitFailed).toBe(calls / 6);
    // The storm did reuse connections: far fewer backends than calls.
    expect(pids.size).toBeLessThan(calls / 4);
    // Every connection the pool holds, taken at once and inspected on itself.
    const clients = await Promise.all(Array.from({ length: 10 }, () => pool.connect()));
    onTestFinished(async () => {
      for (const c of clients) c.release(true);
      await pool.end().catch(() => undefined);
    });
    const user = (await db.pool.query<{ u: string }>('SELECT session_user::text AS u')).rows[0]!.u;
    for (const c of clients) {
      const seen = (await c.query<Held>(held)).rows[0]!;
      expect(seen).toEqual({
        session_user: user,
        current_user: user,
        path: '"$user", public',
        tenant_id: '',
        tenant_key: '',
        cursors: 0,
        prepared: 0,
        listening: 0,
        advisory: 0,
        temp_relations: 0,
        session_settings: '',
        read_only: 'off',
        isolation: 'read committed',
      });
      await expect(c.query('FETCH ALL FROM leak_c')).rejects.toThrow(/cursor "leak_c" does not exist/);
    }
    for (const c of clients.splice(0)) c.release();
    // Plain pool.query runs as the pool's user, and no session anywhere holds an advisory lock.
    expect((await pool.query<{ u: string }>('SELECT current_user::text AS u')).rows[0]!.u).toBe(user);
    const locks = await db.pool.query(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    expect(locks.rows).toEqual([]);
    // And withTenant still works on every connection.
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => withTenant(pool, ids[i % ids.length]!, async (c) => (await c.query('SELECT 1')).rowCount)),
    );
    // Only the calls that returned normally left their row.
    const stormRows = await db.pool.query(
      ids.map((id) => `SELECT count(*)::int AS n FROM "tenant_${id}".customers WHERE name LIKE 'storm%'`).join(' UNION ALL '),
    );
    expect(stormRows.rows.reduce((n, r) => n + r.n, 0)).toBe(outcomes.ok);
  });

  it('gives the connection back clean when fn ends the transaction itself and changes the session outside it', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    pool.on('error', () => undefined);
    onTestFinished(() => pool.end().catch(() => undefined));
    const role = (await db.pool.query<{ role: string }>(`SELECT role_name AS role FROM tenantctl.tenants WHERE id = 't2'`)).rows[0]!.role;
    const user = (await db.pool.query<{ u: string }>('SELECT session_user::text AS u')).rows[0]!.u;
    await withTenant(pool, 't1', async (c) => {
      await c.query(
        `COMMIT; SET SESSION AUTHORIZATION "${role}"; DECLARE leak_out CURSOR WITH HOLD FOR SELECT 1; PREPARE leak_out AS SELECT 1; SET search_path TO tenant_t2; BEGIN`,
      );
    });
    const c = await pool.connect();
    try {
      const seen = (await c.query<Held>(held)).rows[0]!;
      expect(seen).toMatchObject({
        session_user: user,
        current_user: user,
        path: '"$user", public',
        cursors: 0,
        prepared: 0,
        session_settings: '',
      });
    } finally {
      c.release();
    }
    expect(
      await withTenant(pool, 't3', async (c2) => (await c2.query(`SELECT current_setting('tenantctl.tenant_id') AS id`)).rows[0].id),
    ).toBe('t3');
  });
});
