import { CONTROL_SCHEMA_VERSION } from '../src/control/ddl.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archivedSchemaName, createTenants, readOperations, removeTenants, restoreTenant, showTenant, updateTenant } from '../src/index.js';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { scratchProject } from './support/migrations.js';
import { snapshot } from './support/snapshot.js';

let db: TestDatabase;
let cli: ReturnType<typeof cliOn>;
beforeAll(async () => {
  db = await createTestDatabase();
  cli = cliOn(db.url);
});
afterAll(async () => {
  await db.drop();
});

async function counts(schema: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['customers', 'projects', 'tasks', 'invoices']) {
    out[t] = Number((await db.pool.query(`SELECT count(*) FROM "${schema}"."${t}"`)).rows[0].count);
  }
  return out;
}

async function seed(id: string) {
  const r = await cli([
    'exec',
    '--tenant',
    id,
    '-c',
    `INSERT INTO customers (name) VALUES ('a'), ('b');
     INSERT INTO projects (customer_id, name) SELECT id, 'p' FROM customers;
     INSERT INTO tasks (project_id, title) SELECT id, 't' FROM projects;
     INSERT INTO invoices (customer_id, amount_cents) SELECT id, 100 FROM customers;`,
  ]);
  expect(r.code, r.stderr).toBe(0);
}

describe('tenant lifecycle through the CLI', () => {
  it('init is idempotent and applies shared migrations once', async () => {
    const first = await cli(['init', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json()).toMatchObject({
      version: 1,
      controlVersion: CONTROL_SCHEMA_VERSION,
      upgradedFrom: 0,
      shared: { applied: ['1700000000000_create_plans'] },
    });
    const second = await cli(['init', '--json']);
    expect(second.json()).toMatchObject({
      controlVersion: CONTROL_SCHEMA_VERSION,
      upgradedFrom: CONTROL_SCHEMA_VERSION,
      shared: { applied: [] },
    });
    expect((await db.pool.query('SELECT count(*)::int AS n FROM public.plans')).rows[0].n).toBe(3);
  });

  it('creates tenants at the head with schema, role and journal', async () => {
    const r = await cli(['tenant', 'create', 'acme', 'globex', '--name', 'Demo', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ version: 1, summary: { created: 2, failed: 0 } });
    const tables = await db.pool.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'tenant_acme' AND table_type = 'BASE TABLE' ORDER BY 1`,
    );
    expect(tables.rows.map((t) => t.table_name)).toEqual(['customers', 'invoices', 'projects', 'tasks']);
    const show = await cli(['tenant', 'show', 'acme', '--json']);
    const t = show.json<{ tenant: { migrations: unknown[]; key: string; name: string; role: string; pending: number } }>().tenant;
    expect(t).toMatchObject({ key: 'acme', name: 'Demo', pending: 0 });
    expect(t.migrations).toHaveLength(9);
    expect((await db.pool.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [t.role])).rowCount).toBe(1);
  });

  it('lists tenants as a table and as JSON', async () => {
    const human = await cli(['tenant', 'list']);
    expect(human.stdout).toMatch(/^ID\s+SCHEMA\s+STATUS\s+KEY\s+APPLIED\s+PENDING$/m);
    expect(human.stdout).toMatch(/^acme\s+tenant_acme\s+active\s+acme\s+9\s+0$/m);
    const json = await cli(['tenant', 'list', '--json']);
    expect(json.json<{ tenants: unknown[] }>().tenants).toEqual([
      { id: 'acme', schema: 'tenant_acme', status: 'active', key: 'acme', name: 'Demo', applied: 9, pending: 0, server: 'default' },
      { id: 'globex', schema: 'tenant_globex', status: 'active', key: 'globex', name: 'Demo', applied: 9, pending: 0, server: 'default' },
    ]);
  });

  it('updates registry fields and config, and logs it', async () => {
    const r = await cli(['tenant', 'update', 'globex', '--name', 'Globex Corp', '--set', 'plan=team', '--set', 'region=eu', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const u = await cli(['tenant', 'update', 'globex', '--unset', 'region', '--status', 'suspended', '--json']);
    expect(u.json<{ tenant: unknown }>().tenant).toMatchObject({ name: 'Globex Corp', status: 'suspended', config: { plan: 'team' } });
    const ops = await db.pool.query(
      `SELECT detail FROM tenantctl.operations WHERE operation = 'update' AND tenant_id = 'globex' ORDER BY id`,
    );
    expect(ops.rows).toHaveLength(2);
    const back = await cli(['tenant', 'update', 'globex', '--status', 'active']);
    expect(back.code).toBe(0);
  });

  it('archive keeps every row, revokes access; restore brings the tenant back working', async () => {
    await seed('acme');
    const before = await counts('tenant_acme');
    const role = (await db.pool.query(`SELECT role_name FROM tenantctl.tenants WHERE id = 'acme'`)).rows[0].role_name;
    const r = await cli(['tenant', 'remove', 'acme', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<{ tenants: { status: string; totalRows: number }[] }>().tenants[0]).toMatchObject({ status: 'archived', totalRows: 8 });
    const archived = archivedSchemaName('tenant_acme');
    expect(await counts(archived)).toEqual(before);
    expect((await db.pool.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'tenant_acme'`)).rowCount).toBe(0);
    expect((await db.pool.query(`SELECT has_schema_privilege($1, $2, 'USAGE') AS ok`, [role, archived])).rows[0].ok).toBe(false);
    const listed = await cli(['tenant', 'list', '--status', 'archived', '--json']);
    expect(listed.json<{ tenants: { id: string }[] }>().tenants.map((t) => t.id)).toEqual(['acme']);
    const exec = await cli(['exec', '--tenant', 'acme', '-c', 'SELECT 1']);
    expect(exec.code).toBe(2);

    const restored = await cli(['tenant', 'restore', 'acme', '--json']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await counts('tenant_acme')).toEqual(before);
    const works = await cli(['exec', '--tenant', 'acme', '-c', "INSERT INTO customers (name) VALUES ('c') RETURNING tenant_id", '--json']);
    expect(works.code, works.stderr).toBe(0);
    expect(works.json<{ results: { rows: { tenant_id: string }[] }[] }>().results[0]!.rows[0]!.tenant_id).toBe('acme');
    const ops = await db.pool.query(
      `SELECT operation, detail FROM tenantctl.operations WHERE tenant_id = 'acme' AND operation IN ('archive', 'restore') ORDER BY id`,
    );
    expect(ops.rows.map((o) => o.operation)).toEqual(['archive', 'restore']);
    expect(ops.rows[0].detail.rows).toEqual(before);
  });

  it('remove without --yes and no terminal is refused and changes nothing', async () => {
    const before = await snapshot(db.pool);
    const r = await cli(['tenant', 'remove', 'acme']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--yes/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(await snapshot(db.pool)).toBe(before);
  });

  it('purge drops schema, role and registry row and logs the row counts dropped', async () => {
    const role = (await db.pool.query(`SELECT role_name FROM tenantctl.tenants WHERE id = 'acme'`)).rows[0].role_name;
    const before = await counts('tenant_acme');
    const dry = await cli(['tenant', 'remove', 'acme', '--purge', '--dry-run', '--json']);
    expect(dry.json<{ tenants: { status: string }[] }>().tenants[0]!.status).toBe('would-purge');
    const r = await cli(['tenant', 'remove', 'acme', '--purge', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/purged acme .*9 rows dropped/);
    expect((await db.pool.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'tenant_acme'`)).rowCount).toBe(0);
    expect((await db.pool.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [role])).rowCount).toBe(0);
    expect((await db.pool.query(`SELECT 1 FROM tenantctl.tenants WHERE id = 'acme'`)).rowCount).toBe(0);
    expect((await db.pool.query(`SELECT 1 FROM tenantctl.tenant_migrations WHERE tenant_id = 'acme'`)).rowCount).toBe(0);
    const op = await db.pool.query(`SELECT detail FROM tenantctl.operations WHERE operation = 'purge' AND tenant_id = 'acme'`);
    expect(op.rows[0].detail).toMatchObject({ schema: 'tenant_acme', role, rows: before, totalRows: 9 });
  });
});

describe('tenant lifecycle through the library', () => {
  it('create, show, update, archive, restore and purge as functions returning data', async () => {
    const tc = await openOn(db.url);
    try {
      const created = await createTenants(tc, { ids: ['initech'], key: 'c0ffee', set: { tier: 'gold' } });
      expect(created.tenants).toEqual([expect.objectContaining({ id: 'initech', status: 'created' })]);
      expect((await showTenant(tc, 'initech')).tenant).toMatchObject({ key: 'c0ffee', config: { tier: 'gold' }, applied: 9 });
      expect((await updateTenant(tc, { id: 'initech', name: 'Initech' })).tenant.name).toBe('Initech');
      expect((await removeTenants(tc, { ids: ['initech'] })).tenants[0]!.status).toBe('archived');
      expect((await restoreTenant(tc, 'initech')).schema).toBe('tenant_initech');
      expect((await removeTenants(tc, { ids: ['initech'], purge: true })).tenants[0]!.status).toBe('purged');
      const ops = await readOperations(tc, 'initech');
      expect(ops.map((o) => o.operation)).toEqual(['create', 'update', 'archive', 'restore', 'purge']);
    } finally {
      await tc.close();
    }
  });
});

describe('create is atomic', () => {
  it('a failing tenant migration leaves no schema, no role, no registry row', async () => {
    const proj = scratchProject({ '1700000010000_broken': 'CREATE TABLE broken (id int);\nSELECT 1/0;' });
    const run = cliOn(db.url, { cwd: proj.dir });
    const before = await snapshot(db.pool);
    const r = await run(['tenant', 'create', 'doomed', '--json']);
    expect(r.code).toBe(1);
    const t = r.json<{ tenants: { id: string; status: string; error: string }[] }>().tenants[0]!;
    expect(t).toMatchObject({ id: 'doomed', status: 'failed' });
    expect(t.error).toMatch(/division by zero/);
    expect((await db.pool.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'tenant_doomed'`)).rowCount).toBe(0);
    expect((await db.pool.query(`SELECT 1 FROM pg_roles WHERE rolname LIKE '%\\_doomed'`)).rowCount).toBe(0);
    expect((await db.pool.query(`SELECT 1 FROM tenantctl.tenants WHERE id = 'doomed'`)).rowCount).toBe(0);
    expect(await snapshot(db.pool)).toBe(before);
  });
});
