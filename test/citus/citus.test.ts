// tenantctl on a Citus coordinator: init records Citus, tenants are distributed schemas, and the everyday
// commands (migrate, status, exec, withTenant, clone, archive/restore/purge, verify, list/show
// placement) work there unchanged.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTenantctl, withTenant, type Tenantctl } from '../../src/index.js';
import { cliOn } from '../support/cli.js';
import { citusProject, createCitusDatabase, type CitusDatabase } from './support.js';

let db: CitusDatabase;
let project: { dir: string; remove(): void };
let tc: Tenantctl;
const cli = (args: string[]) => cliOn(db.url, { cwd: project.dir })(args);

beforeAll(async () => {
  db = await createCitusDatabase();
  project = citusProject();
  tc = await openTenantctl({ databaseUrl: db.url, cwd: project.dir });
});

afterAll(async () => {
  await tc?.close();
  await db?.drop();
  project?.remove();
});

async function distributed(schema: string): Promise<boolean> {
  const r = await db.pool.query('SELECT 1 FROM pg_dist_schema WHERE schemaid = to_regnamespace($1)', [schema]);
  return r.rowCount === 1;
}

describe('tenantctl on Citus', () => {
  it('init records Citus and makes the shared tables reference tables', async () => {
    const r = await cli(['init', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ citus: { version: expect.stringMatching(/^12\./) }, shared: { referenceTables: ['plans'] } });
    const kind = await db.pool.query(`SELECT citus_table_type FROM citus_tables WHERE table_name = 'plans'::regclass`);
    expect(kind.rows).toEqual([{ citus_table_type: 'reference' }]);
    const again = await cli(['init']);
    expect(again.stdout).toMatch(/Citus 12\.\S+ coordinator: tenants are distributed schemas/);
    expect(again.stdout).not.toMatch(/reference tables made/);
  });

  it('tenant create makes distributed schemas whose tables are single-shard tables on one worker', async () => {
    const r = await cli(['tenant', 'create', 'acme', 'globex', 'initech']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const id of ['acme', 'globex', 'initech']) expect(await distributed(`tenant_${id}`)).toBe(true);
    const shards = await db.pool.query<{ tables: number; nodes: number }>(
      `SELECT count(DISTINCT table_name)::int AS tables, count(DISTINCT nodeport)::int AS nodes FROM citus_shards
        WHERE citus_table_type = 'schema' AND table_name::text LIKE 'tenant_acme.%'`,
    );
    expect(shards.rows[0]).toEqual({ tables: 4, nodes: 1 });
    // Their foreign keys to the shared plans work: a reference table.
    const exec = await cli([
      'exec',
      '--tenant',
      'acme',
      '-c',
      "INSERT INTO customers (name, plan_code) VALUES ('Ada', 'team') RETURNING name, plan_code",
    ]);
    expect(exec.code, exec.stderr).toBe(0);
    expect(exec.stdout).toMatch(/Ada\s+team/);
    const bad = await cli(['exec', '--tenant', 'acme', '-c', "INSERT INTO customers (name, plan_code) VALUES ('Bob', 'nope')"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr + bad.stdout).toMatch(/foreign key/);
  });

  it('tenant list and show give each tenant its placement (worker and size), human and JSON', async () => {
    const r = await cli(['tenant', 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const tenants = r.json<{ tenants: { id: string; placement: { host: string; port: number; sizeBytes: number } }[] }>().tenants;
    const truth = await db.pool.query<{ schema: string; port: number }>(
      `SELECT DISTINCT split_part(table_name::text, '.', 1) AS schema, nodeport AS port FROM citus_shards WHERE citus_table_type = 'schema'`,
    );
    expect(tenants).toHaveLength(3);
    for (const t of tenants) {
      expect(t.placement.port).toBe(truth.rows.find((row) => row.schema === `tenant_${t.id}`)!.port);
      expect(t.placement.sizeBytes).toBeGreaterThan(0);
    }
    const human = await cli(['tenant', 'list']);
    expect(human.stdout).toMatch(/WORKER\s+SIZE/);
    expect(human.stdout).toMatch(
      new RegExp(`acme\\s+tenant_acme\\s+active\\s+acme\\s+9\\s+0\\s+127\\.0\\.0\\.1:${tenants[0]!.placement.port}\\s+\\d+ kB`),
    );
    const show = await cli(['tenant', 'show', 'acme', '--json']);
    expect(show.json<{ tenant: { placement: unknown } }>().tenant.placement).toEqual(tenants.find((t) => t.id === 'acme')!.placement);
    expect((await cli(['tenant', 'show', 'acme'])).stdout).toMatch(/placement\s+127\.0\.0\.1:\d+ \(\d+ kB\)/);
  });

  it('migrate applies a new migration to every tenant (a new shared table becomes a reference table first), status reports nothing pending after', async () => {
    writeFileSync(
      join(project.dir, 'migrations/shared/1800000000000_create_currencies.sql'),
      `-- Up Migration\nCREATE TABLE currencies (code text PRIMARY KEY);\nINSERT INTO currencies VALUES ('EUR'), ('USD');\n-- Down Migration\nDROP TABLE currencies;\n`,
    );
    writeFileSync(
      join(project.dir, 'migrations/tenant/1800000000000_add_notes.sql'),
      `-- Up Migration\nCREATE TABLE notes (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, customer_id bigint REFERENCES customers (id), currency text REFERENCES currencies (code), body text NOT NULL);\nCREATE INDEX notes_customer_idx ON notes (customer_id);\n-- Down Migration\nDROP TABLE notes;\n`,
    );
    const pending = await cli(['migrate', 'status', '--check']);
    expect(pending.code).toBe(1);
    const up = await cli(['migrate']);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const status = await cli(['migrate', 'status', '--check']);
    expect(status.code, status.stdout).toBe(0);
    const kind = await db.pool.query(`SELECT citus_table_type FROM citus_tables WHERE table_name = 'currencies'::regclass`);
    expect(kind.rows).toEqual([{ citus_table_type: 'reference' }]);
    const cur = await cli([
      'exec',
      '--tenant',
      'globex',
      '-c',
      "INSERT INTO notes (body, currency) VALUES ('n', 'EUR') RETURNING currency",
    ]);
    expect(cur.code, cur.stderr).toBe(0);
    const tables = await db.pool.query(`SELECT 1 FROM citus_shards WHERE table_name::text LIKE 'tenant_%.notes'`);
    expect(tables.rowCount).toBe(3);
    const down = await cli(['migrate', 'down', '--tenant', 'initech']);
    expect(down.code, down.stdout + down.stderr).toBe(0);
    expect((await db.pool.query(`SELECT to_regclass('tenant_initech.notes') AS t`)).rows[0].t).toBeNull();
    expect((await cli(['migrate', '--tenant', 'initech'])).code).toBe(0);
  });

  it('withTenant reaches the tenant through its role and search_path, and nothing of another tenant', async () => {
    const rows = await withTenant(tc.pool, 'acme', async (c) => (await c.query('SELECT name FROM customers')).rows);
    expect(rows).toEqual([{ name: 'Ada' }]);
    await expect(withTenant(tc.pool, 'acme', (c) => c.query('SELECT * FROM tenant_globex.customers'))).rejects.toThrow(/permission denied/);
  });

  it('clone makes a distributed copy (copy and move between tenants: copy.test.ts)', async () => {
    const clone = await cli(['tenant', 'clone', 'acme', 'acme2']);
    expect(clone.code, clone.stdout + clone.stderr).toBe(0);
    expect(await distributed('tenant_acme2')).toBe(true);
    expect((await db.pool.query(`SELECT name FROM tenant_acme2.customers`)).rows).toEqual([{ name: 'Ada' }]);
    const schemaOnly = await cli(['tenant', 'clone', 'acme', 'acme3', '--schema-only']);
    expect(schemaOnly.code, schemaOnly.stdout + schemaOnly.stderr).toBe(0);
    expect(await distributed('tenant_acme3')).toBe(true);
  });

  it('tenant export and import: the imported tenant is a distributed schema with the rows', async () => {
    const out = join(project.dir, 'acme.export');
    expect((await cli(['tenant', 'export', 'acme', '--out', out])).code).toBe(0);
    const r = await cli(['tenant', 'import', out, '--as', 'acme9']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await distributed('tenant_acme9')).toBe(true);
    expect((await db.pool.query(`SELECT name FROM tenant_acme9.customers`)).rows).toEqual([{ name: 'Ada' }]);
    expect((await cli(['tenant', 'remove', 'acme9', '--purge', '--yes'])).code).toBe(0);
  });

  it('archive, restore and purge a distributed tenant', async () => {
    const archive = await cli(['tenant', 'remove', 'acme2', '--yes']);
    expect(archive.code, archive.stdout + archive.stderr).toBe(0);
    expect(await distributed('tenant_acme2$archived')).toBe(true);
    const login = await db.pool.query<{ rolcanlogin: boolean }>(`SELECT rolcanlogin FROM pg_roles WHERE rolname LIKE 'tc%\\_acme2'`);
    expect(login.rows).toEqual([{ rolcanlogin: false }]);
    const restore = await cli(['tenant', 'restore', 'acme2']);
    expect(restore.code, restore.stdout + restore.stderr).toBe(0);
    expect((await cli(['exec', '--tenant', 'acme2', '-c', 'SELECT count(*) AS n FROM customers'])).stdout).toMatch(/^n\n1\n/m);
    const purge = await cli(['tenant', 'remove', 'acme2', '--purge', '--yes']);
    expect(purge.code, purge.stdout + purge.stderr).toBe(0);
    expect(await distributed('tenant_acme2')).toBe(false);
    expect((await db.pool.query(`SELECT 1 FROM citus_shards WHERE table_name::text LIKE 'tenant_acme2%'`)).rowCount).toBe(0);
    for (const w of db.workers) {
      const { default: pg } = await import('pg');
      const c = new pg.Client({ connectionString: w.url });
      await c.connect();
      const roles = await c.query(`SELECT 1 FROM pg_roles WHERE rolname LIKE 'tc%\\_acme2'`);
      await c.end();
      expect(roles.rowCount).toBe(0);
    }
  });

  it('verify finds nothing on a clean Citus fleet, and reports a tenant schema that is not distributed', async () => {
    const clean = await cli(['verify', '--json']);
    expect(clean.code, clean.stdout).toBe(0);
    const report = clean.json<{ violations: unknown[]; notes: unknown[] }>();
    expect(report.violations).toEqual([]);
    expect(report.notes).toEqual([]);
    // A tenant made before init recorded Citus (the extension came later): a plain schema on the coordinator.
    await db.pool.query(`DELETE FROM tenantctl.meta WHERE key = 'citus'`);
    expect((await cli(['tenant', 'create', 'early'])).code).toBe(0);
    expect((await cli(['init'])).code).toBe(0);
    expect(await distributed('tenant_early')).toBe(false);
    const r = await cli(['verify', '--json']);
    expect(r.code).toBe(1);
    expect(r.json<{ violations: unknown[] }>().violations).toEqual([
      expect.objectContaining({
        rule: 'not-distributed',
        tenant: 'early',
        detail: expect.stringMatching(/not a Citus distributed schema/),
      }),
    ]);
    expect((await cli(['tenant', 'show', 'early', '--json'])).json<{ tenant: { placement: unknown } }>().tenant.placement).toBeNull();
  });
});
