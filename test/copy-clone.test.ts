import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneTenant, createTenants, migrateDown, readOperations, showTenant, type Tenantctl } from '../src/index.js';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';

let db: TestDatabase;
let tc: Tenantctl;
let cli: ReturnType<typeof cliOn>;

beforeAll(async () => {
  db = await createTestDatabase();
  tc = await openOn(db.url);
  cli = cliOn(db.url);
  await createTenants(tc, { ids: ['acme', 'old'] });
  for (const id of ['acme', 'old']) {
    const s = `"tenant_${id}"`;
    await db.pool.query(`
      INSERT INTO ${s}.customers (tenant_id, name, plan_code) SELECT '${id}', 'c' || g, 'team' FROM generate_series(1, 5) g;
      INSERT INTO ${s}.projects (tenant_id, customer_id, name) SELECT '${id}', id, 'p' || id FROM ${s}.customers;
      INSERT INTO ${s}.tasks (tenant_id, project_id, title) SELECT '${id}', id, 't' || id FROM ${s}.projects;
      INSERT INTO ${s}.invoices (tenant_id, customer_id, amount_cents) SELECT '${id}', id, 10 * id FROM ${s}.customers;
      DELETE FROM ${s}.invoices WHERE customer_id = 5;
      DELETE FROM ${s}.customers WHERE name = 'c5';`);
  }
});

afterAll(async () => {
  await tc?.close();
  await db?.drop();
});

async function rows(schema: string, table: string): Promise<unknown[]> {
  const r = await db.pool.query(`SELECT * FROM "${schema}"."${table}" ORDER BY 1`);
  return r.rows.map((row: Record<string, unknown>) => ({ ...row, tenant_id: undefined }));
}

async function tenantState(): Promise<unknown> {
  const r = await db.pool.query(`SELECT id, schema_name FROM tenantctl.tenants ORDER BY id`);
  const s = await db.pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%' ORDER BY 1`);
  const roles = await db.pool.query(`SELECT rolname FROM pg_roles WHERE rolname LIKE $1 ORDER BY 1`, [
    `tc${(await db.pool.query('SELECT oid FROM pg_database WHERE datname = current_database()')).rows[0].oid}\\_%`,
  ]);
  return { tenants: r.rows, schemas: s.rows, roles: roles.rows };
}

describe('tenant clone', () => {
  it('clones a tenant with identity columns and a view: rows, keys, sequences, role, journal', async () => {
    const r = await cli(['tenant', 'clone', 'acme', 'beta', '--json']);
    expect(r.code).toBe(0);
    const doc = r.json<{ rows: number; tables: { table: string; rows: number }[]; migrations: string[] }>();
    expect(doc).toMatchObject({ version: 1, from: 'acme', to: 'beta', status: 'cloned', rows: 4 + 4 + 4 + 4, schema: 'tenant_beta' });
    expect(doc.migrations).toHaveLength(9);
    for (const t of ['customers', 'projects', 'tasks', 'invoices'])
      expect(await rows('tenant_beta', t)).toEqual(await rows('tenant_acme', t));
    const own = await db.pool.query(`SELECT count(*)::int AS n FROM tenant_beta.customers WHERE tenant_id <> 'beta'`);
    expect(own.rows[0].n).toBe(0);

    // the view is there and sees the clone's own rows
    const view = await cli([
      'exec',
      '--tenant',
      'beta',
      '--json',
      '-c',
      'SELECT tenant_id, count(*)::int AS n, sum(total_cents)::int AS total FROM customer_invoice_totals GROUP BY 1',
    ]);
    expect(view.code).toBe(0);
    expect(view.json<{ results: { rows: unknown[] }[] }>().results[0]!.rows).toEqual([{ tenant_id: 'beta', n: 4, total: 100 }]);

    // identity (ALWAYS and BY DEFAULT) and serial sequences are past the copied values: the app can insert, as the tenant's role
    const ins = await cli([
      'exec',
      '--tenant',
      'beta',
      '--json',
      '-c',
      `INSERT INTO customers (name) VALUES ('new') RETURNING id;
       INSERT INTO invoices (customer_id, amount_cents) SELECT max(id), 1 FROM customers RETURNING id, number;
       INSERT INTO projects (customer_id, name) SELECT max(id), 'np' FROM customers RETURNING id`,
    ]);
    expect(ins.code).toBe(0);
    const results = ins.json<{ results: { rows: Record<string, string>[] }[] }>().results;
    // (c5 was deleted from the source before the clone: the copied maximum is 4)
    expect(Number(results[0]!.rows[0]!.id)).toBe(5);
    expect(results[1]!.rows[0]).toEqual({ id: '5', number: '1004' });
    expect(Number(results[2]!.rows[0]!.id)).toBe(5);

    const shown = await showTenant(tc, 'beta');
    const source = await showTenant(tc, 'acme');
    expect(shown.tenant.migrations.map((m) => m.name)).toEqual(source.tenant.migrations.map((m) => m.name));
    expect(shown.tenant).toMatchObject({ key: 'beta', status: 'active', pending: 0 });
    expect(shown.tenant.role).toMatch(/^tc\d+_beta$/);
    expect((await readOperations(tc, 'beta')).map((o) => o.operation)).toEqual(['clone']);
    expect((await readOperations(tc, 'acme')).at(-1)).toMatchObject({
      operation: 'clone',
      detail: { to: 'beta', rows: 16, side: 'source' },
    });
  });

  it("creates the clone at the source's migration version, not the head", async () => {
    await migrateDown(tc, { tenants: ['old'], count: 3 });
    await db.pool.query(`INSERT INTO tenant_old.customers (tenant_id, name) VALUES ('old', 'after down')`);
    const r = await cloneTenant(tc, { from: 'old', to: 'old_copy', key: 'OLD-2' });
    expect(r.status).toBe('cloned');
    expect(r.migrations).toHaveLength(6);
    const t = (await showTenant(tc, 'old_copy')).tenant;
    expect(t).toMatchObject({ applied: 6, pending: 3, key: 'OLD-2' });
    const keys = await db.pool.query(`SELECT DISTINCT tenant_id FROM tenant_old_copy.customers`);
    expect(keys.rows).toEqual([{ tenant_id: 'OLD-2' }]);
    expect(await rows('tenant_old_copy', 'customers')).toEqual(await rows('tenant_old', 'customers'));
    const view = await db.pool.query(`SELECT 1 FROM pg_views WHERE schemaname = 'tenant_old_copy'`);
    expect(view.rowCount).toBe(0);
    const up = await cli(['migrate', '--tenant', 'old_copy', '--json']);
    expect(up.code).toBe(0);
    expect(up.json()).toMatchObject({ summary: { migrated: 1 } });
  });

  it('--dry-run says what would be created and creates nothing', async () => {
    const before = await tenantState();
    const r = await cli(['tenant', 'clone', 'acme', 'ghost', '--dry-run', '--json']);
    expect(r.code).toBe(0);
    const doc = r.json<{ tables: { table: string; rows: number }[]; rows: number }>();
    expect(doc).toMatchObject({ status: 'planned', schema: 'tenant_ghost', dryRun: true });
    const customers = await db.pool.query(`SELECT count(*)::int AS n FROM tenant_acme.customers`);
    expect(doc.tables.find((t) => t.table === 'customers')?.rows).toBe(customers.rows[0].n);
    expect(await tenantState()).toEqual(before);
  });

  it('--schema-only makes the structure without rows', async () => {
    const r = await cli(['tenant', 'clone', 'acme', 'empty', '--schema-only']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/created tenant empty \(schema tenant_empty, 9 migrations, schema only\)/);
    for (const t of ['customers', 'projects', 'tasks', 'invoices']) expect(await rows('tenant_empty', t)).toEqual([]);
    const views = await db.pool.query(`SELECT viewname FROM pg_views WHERE schemaname = 'tenant_empty'`);
    expect(views.rows).toEqual([{ viewname: 'customer_invoice_totals' }]);
  });

  it('bad input exits 2 and creates nothing; a clone that cannot finish leaves no trace', async () => {
    const before = await tenantState();
    for (const [args, code, error] of [
      [['tenant', 'clone', 'nosuch', 'x1'], 2, 'unknown_tenant'],
      [['tenant', 'clone', 'acme', 'beta'], 2, 'tenant_exists'],
      [['tenant', 'clone', 'acme', 'acme'], 2, 'same_tenant'],
      [['tenant', 'clone', 'acme', '9lives'], 2, 'invalid_tenant_id'],
    ] as const) {
      const r = await cli([...args, '--json']);
      expect({ args, code: r.code, error: r.json<{ error: { code: string } }>().error.code }).toEqual({ args, code, error });
    }
    // drift in the source: the clone's migrations do not rebuild it, so the clone is refused after being half made
    await db.pool.query(`ALTER TABLE tenant_acme.customers ADD COLUMN nickname text`);
    try {
      const r = await cli(['tenant', 'clone', 'acme', 'drifted', '--json']);
      expect(r.code).toBe(2);
      expect(r.json()).toMatchObject({ error: { code: 'schema_mismatch' } });
      expect(r.json<{ error: { message: string } }>().error.message).toMatch(/customers\.nickname is missing in "drifted"/);
    } finally {
      await db.pool.query(`ALTER TABLE tenant_acme.customers DROP COLUMN nickname`);
    }
    expect(await tenantState()).toEqual(before);
  });
});
