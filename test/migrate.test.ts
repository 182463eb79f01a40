import { existsSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, migrateStatus } from '../src/index.js';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { scratchProject } from './support/migrations.js';

let db: TestDatabase;
const proj = scratchProject();
let cli: ReturnType<typeof cliOn>;
const ids = ['a1', 'b2', 'c3', 'd4'];

interface MigrateJson {
  tenants: { id: string; status: string; applied: string[]; error?: string }[];
  summary: { migrated: number; upToDate: number; failed: number; skipped: number };
}

const columns = async (schema: string, table: string) =>
  (
    await db.pool.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY 1`, [
      schema,
      table,
    ])
  ).rows.map((r) => r.column_name);
const journal = async (id: string) =>
  (await db.pool.query(`SELECT name FROM tenantctl.tenant_migrations WHERE tenant_id = $1 ORDER BY name`, [id])).rows.map((r) => r.name);

beforeAll(async () => {
  db = await createTestDatabase();
  cli = cliOn(db.url, { cwd: proj.dir });
  const r = await cli(['tenant', 'create', ...ids]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(async () => {
  await db.drop();
});

describe('migrate', () => {
  it('reports nothing pending as up to date', async () => {
    const r = await cli(['migrate', '--json']);
    expect(r.code).toBe(0);
    expect(r.json<MigrateJson>().summary).toEqual({ migrated: 0, upToDate: 4, failed: 0, skipped: 0 });
  });

  it('one tenant failing stays at its previous version; the others migrate; exit 1 and the JSON says which and why', async () => {
    proj.add(
      '1700000010000_add_notes',
      '-- Up Migration\nALTER TABLE projects ADD COLUMN notes text;\nALTER TABLE customers ADD COLUMN notes text;\n-- Down Migration\nALTER TABLE customers DROP COLUMN notes;\nALTER TABLE projects DROP COLUMN notes;\n',
    );
    await db.pool.query('ALTER TABLE tenant_c3.customers ADD COLUMN notes text');
    const status = await cli(['migrate', 'status', '--check', '--json']);
    expect(status.code).toBe(1);
    expect(status.json<{ tenants: { id: string; pending: string[] }[] }>().tenants.map((t) => t.pending)).toEqual(
      ids.map(() => ['1700000010000_add_notes']),
    );
    const r = await cli(['migrate', '--json']);
    expect(r.code).toBe(1);
    const doc = r.json<MigrateJson>();
    expect(doc.summary).toEqual({ migrated: 3, upToDate: 0, failed: 1, skipped: 0 });
    const failed = doc.tenants.find((t) => t.id === 'c3')!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^1700000010000_add_notes\.sql: column "notes" of relation "customers" already exists/);
    expect(failed).toMatchObject({ migration: '1700000010000_add_notes' });
    expect(doc.tenants.filter((t) => t.status === 'migrated').map((t) => t.id)).toEqual(['a1', 'b2', 'd4']);
    // c3 is whole at its previous version: the first statement of the migration was rolled back too.
    expect(await columns('tenant_c3', 'projects')).not.toContain('notes');
    expect(await journal('c3')).not.toContain('1700000010000_add_notes');
    expect(await columns('tenant_a1', 'projects')).toContain('notes');
    const human = await cli(['migrate']);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/failed\s+c3: 1700000010000_add_notes\.sql: column "notes"/);
    expect(human.stdout).toMatch(/0 migrated, 3 up to date, 1 failed, 0 skipped/);
    // Fix the tenant, rerun: it finishes.
    await db.pool.query('ALTER TABLE tenant_c3.customers DROP COLUMN notes');
    const again = await cli(['migrate', '--json']);
    expect(again.code).toBe(0);
    expect(again.json<MigrateJson>().summary).toEqual({ migrated: 1, upToDate: 3, failed: 0, skipped: 0 });
    expect((await cli(['migrate', 'status', '--check'])).code).toBe(0);
  });

  it('migrate down rolls back the last migration, --to rolls back to a name, and up goes to the head again', async () => {
    const down = await cli(['migrate', 'down', '--tenant', 'a1', '--json']);
    expect(down.code, down.stderr).toBe(0);
    expect(down.json<MigrateJson>().tenants[0]).toMatchObject({ id: 'a1', status: 'reverted', applied: ['1700000010000_add_notes'] });
    expect(await columns('tenant_a1', 'projects')).not.toContain('notes');
    const to = await cli(['migrate', 'down', '--tenant', 'a1', 'b2', '--to', '1700000007000_customer_totals_view', '--json']);
    expect(to.code, to.stderr).toBe(0);
    expect(to.json<MigrateJson>().tenants.map((t) => t.applied)).toEqual([
      ['1700000009000_invoice_amount_check', '1700000008000_tenant_id_indexes'],
      ['1700000010000_add_notes', '1700000009000_invoice_amount_check', '1700000008000_tenant_id_indexes'],
    ]);
    expect(await journal('a1')).toHaveLength(7);
    // --to a migration this tenant has not applied rolls back nothing (and says so), rather than everything.
    const notApplied = await cli(['migrate', 'down', '--tenant', 'a1', '--to', '1700000009000_invoice_amount_check', '--json']);
    expect(notApplied.code).toBe(1);
    expect(notApplied.json<MigrateJson>().tenants[0]!.error).toMatch(/is not applied to this tenant/);
    expect(await journal('a1')).toHaveLength(7);
    const partial = await cli(['migrate', '--tenant', 'a1', '--to', '1700000008000_tenant_id_indexes', '--json']);
    expect(partial.json<MigrateJson>().tenants[0]!.applied).toEqual(['1700000008000_tenant_id_indexes']);
    const up = await cli(['migrate', '--json']);
    expect(up.code).toBe(0);
    expect(up.json<MigrateJson>().summary).toMatchObject({ migrated: 2, failed: 0 });
  });

  it('status reports journal entries whose file is missing or changed', async () => {
    const file = join(proj.tenant, '1700000010000_add_notes.sql');
    const text = readFileSync(file, 'utf8');
    appendFileSync(file, '-- a later edit\n');
    let r = await cli(['migrate', 'status', '--json']);
    expect(r.json<{ tenants: { changed: string[] }[] }>().tenants.every((t) => t.changed.includes('1700000010000_add_notes'))).toBe(true);
    rmSync(file);
    r = await cli(['migrate', 'status', '--json']);
    const doc = r.json<{ tenants: { missing: string[]; pending: string[] }[]; disagreeing: string[] }>();
    expect(doc.tenants.every((t) => t.missing.includes('1700000010000_add_notes'))).toBe(true);
    expect(doc.disagreeing).toEqual(ids);
    expect((await cli(['migrate', 'status'])).stdout).toMatch(/missing file 1700000010000_add_notes/);
    writeFileSync(file, text);
  });

  it('migrate new writes a node-pg-migrate file that migrate then applies', async () => {
    const r = await cli(['migrate', 'new', 'add_rating', '--sql', '--json']);
    expect(r.code).toBe(0);
    const path = r.json<{ path: string }>().path;
    expect(existsSync(path)).toBe(true);
    writeFileSync(
      path,
      '-- Up Migration\nALTER TABLE customers ADD COLUMN rating int;\n-- Down Migration\nALTER TABLE customers DROP COLUMN rating;\n',
    );
    const js = await cli(['migrate', 'new', 'noop', '--json']);
    expect(readFileSync(js.json<{ path: string }>().path, 'utf8')).toMatch(/export const up = \(pgm\) => \{\};/);
    const shared = await cli(['migrate', 'new', 'add_feature_flags', '--shared', '--sql', '--json']);
    expect(shared.json<{ path: string }>().path).toContain(join('migrations', 'shared'));
    writeFileSync(shared.json<{ path: string }>().path, '-- Up Migration\nCREATE TABLE feature_flags (name text PRIMARY KEY);\n');
    const up = await cli(['migrate', '--json']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.json<{ shared: { applied: string[] }; summary: { migrated: number } }>()).toMatchObject({ summary: { migrated: 4 } });
    expect(await columns('tenant_d4', 'customers')).toContain('rating');
    expect((await db.pool.query(`SELECT to_regclass('public.feature_flags') IS NOT NULL AS ok`)).rows[0].ok).toBe(true);
  });

  it('works as a library function returning per-tenant results', async () => {
    const tc = await openOn(db.url);
    const lib = await openOn(db.url, { tenantMigrations: proj.tenant, sharedMigrations: proj.shared });
    try {
      const r = await migrate(lib, {});
      expect(r.summary.failed).toBe(0);
      expect(r.tenants.map((t) => t.status)).toEqual(['up-to-date', 'up-to-date', 'up-to-date', 'up-to-date']);
      const s = await migrateStatus(lib, { tenants: ['b2'] });
      expect(s.tenants).toEqual([expect.objectContaining({ id: 'b2', pending: [] })]);
    } finally {
      await lib.close();
      await tc.close();
    }
  });
});
