import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, withTenant } from '../src/index.js';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';

let db: TestDatabase;
let other: TestDatabase;
let cli: ReturnType<typeof cliOn>;
beforeAll(async () => {
  [db, other] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  cli = cliOn(db.url);
  expect((await cli(['tenant', 'create', 'acme', 'globex'])).code).toBe(0);
});
afterAll(async () => {
  await Promise.all([db.drop(), other.drop()]);
});

const roleOf = async (id: string, pool = db.pool) =>
  (await pool.query(`SELECT role_name FROM tenantctl.tenants WHERE id = $1`, [id])).rows[0].role_name as string;

/** Runs SQL as a role, in a transaction that is rolled back; returns the error code or 'ok'. */
async function as(role: string, sql: string): Promise<string> {
  const c = await db.pool.connect();
  try {
    await c.query('BEGIN');
    await c.query(`SET LOCAL ROLE "${role}"`);
    await c.query(sql);
    return 'ok';
  } catch (err) {
    return (err as { code: string }).code;
  } finally {
    await c.query('ROLLBACK');
    c.release();
  }
}

describe('per-tenant roles', () => {
  it('a tenant role uses its own schema and the shared one, and nothing of another tenant', async () => {
    const acme = await roleOf('acme');
    expect(await as(acme, `INSERT INTO tenant_acme.customers (tenant_id, name) VALUES ('acme', 'x')`)).toBe('ok');
    expect(await as(acme, `SELECT nextval('tenant_acme.invoice_number_seq')`)).toBe('ok');
    expect(await as(acme, 'SELECT * FROM public.plans')).toBe('ok');
    expect(await as(acme, 'SELECT * FROM tenant_globex.customers')).toBe('42501');
    expect(await as(acme, 'CREATE TABLE tenant_acme.sneaky (id int)')).toBe('42501');
    expect(await as(acme, 'CREATE TABLE public.sneaky (id int)')).toBe('42501');
    expect(await as(acme, 'SELECT * FROM tenantctl.tenants')).toBe('42501');
  });

  it('grants nothing to PUBLIC on tenant schemas, tables, sequences or functions', async () => {
    const leaks = await db.pool.query(`
      SELECT 'schema ' || n.nspname AS what FROM pg_namespace n
        WHERE n.nspname LIKE 'tenant\\_%' AND (n.nspacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(n.nspacl) a WHERE a.grantee = 0))
      UNION ALL
      SELECT 'relation ' || c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname LIKE 'tenant\\_%' AND EXISTS (SELECT 1 FROM aclexplode(c.relacl) a WHERE a.grantee = 0)
      UNION ALL
      SELECT 'function ' || p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname LIKE 'tenant\\_%' AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0))`);
    expect(leaks.rows).toEqual([]);
  });

  it('tables created later get the tenant role privileges (default privileges)', async () => {
    const r = await cli(['exec', '--tenant', 'acme', '-c', 'SELECT 1']);
    expect(r.code).toBe(0);
    await db.pool.query('CREATE TABLE tenant_acme.later (id serial PRIMARY KEY, tenant_id text)');
    const acme = await roleOf('acme');
    expect(await as(acme, `INSERT INTO tenant_acme.later (tenant_id) VALUES ('acme')`)).toBe('ok');
    expect(await as(await roleOf('globex'), 'SELECT * FROM tenant_acme.later')).toBe('42501');
  });

  it('archive revokes access, restore grants it back', async () => {
    const globex = await roleOf('globex');
    expect((await cli(['tenant', 'remove', 'globex', '--yes'])).code).toBe(0);
    expect(await as(globex, 'SELECT count(*) FROM "tenant_globex$archived".customers')).toBe('42501');
    expect(await as(globex, 'SELECT * FROM public.plans')).toBe('42501');
    expect((await cli(['tenant', 'restore', 'globex'])).code).toBe(0);
    expect(await as(globex, 'SELECT count(*) FROM tenant_globex.customers')).toBe('ok');
    expect(await as(globex, 'SELECT * FROM public.plans')).toBe('ok');
  });

  it('two databases on one server with the same tenant ids keep separate roles', async () => {
    const second = cliOn(other.url);
    const r = await second(['tenant', 'create', 'acme']);
    expect(r.code, r.stderr).toBe(0);
    const here = await roleOf('acme');
    const there = await roleOf('acme', other.pool);
    expect(here).not.toBe(there);
    // Purging one leaves the other's role and data working.
    expect((await second(['tenant', 'remove', 'acme', '--purge', '--yes'])).code).toBe(0);
    expect((await db.pool.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [here])).rowCount).toBe(1);
    expect(await as(here, 'SELECT count(*) FROM tenant_acme.customers')).toBe('ok');
  });

  it('with roles off, no role is made and withTenant still scopes search_path and key', async () => {
    const tc = await openOn(db.url, { roles: false, controlSchema: 'tc_noroles', schemaPrefix: 'nr_', sharedSchema: 'nr_shared' });
    try {
      await createTenants(tc, { ids: ['plain'] });
      const row = await db.pool.query(`SELECT role_name FROM tc_noroles.tenants WHERE id = 'plain'`);
      expect(row.rows[0].role_name).toBeNull();
      const seen = await withTenant(
        tc.pool,
        'plain',
        async (c) => (await c.query(`SELECT current_schema() AS s, current_setting('tenantctl.tenant_key') AS k`)).rows[0],
        {
          controlSchema: 'tc_noroles',
          sharedSchema: 'nr_shared',
        },
      );
      expect(seen).toEqual({ s: 'nr_plain', k: 'plain' });
    } finally {
      await tc.close();
    }
  });
});

describe('connection as a tenant role cannot escape', () => {
  it('exec runs as the tenant role', async () => {
    const r = await cli(['exec', '--tenant', 'acme', '-c', 'SELECT current_user AS u, current_schema() AS s', '--json']);
    const row = r.json<{ results: { rows: { u: string; s: string }[] }[] }>().results[0]!.rows[0]!;
    expect(row).toEqual({ u: await roleOf('acme'), s: 'tenant_acme' });
    const escape = await cli(['exec', '--tenant', 'acme', '-c', 'SELECT * FROM tenant_globex.customers']);
    expect(escape.code).toBe(1);
    expect(escape.stderr).toMatch(/permission denied/);
  });
});
