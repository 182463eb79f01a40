import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cloneTenant,
  copyRows,
  createTenants,
  migrate,
  moveRows,
  migrateDown,
  removeTenants,
  restoreTenant,
  verify,
  withTenant,
  type Tenantctl,
} from '../src/index.js';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';

let db: TestDatabase;
let tc: Tenantctl;
let dir: string;

/** A few rows in every table of the example application, written as the tenant (withTenant: its role, its key). */
async function fill(id: string, n: number): Promise<void> {
  await withTenant(
    tc.pool,
    id,
    async (c) => {
      await c.query(
        `INSERT INTO customers (name, email) SELECT 'customer ' || g, 'c' || g || '@example.com' FROM generate_series(1, $1) g`,
        [n],
      );
      await c.query(`INSERT INTO projects (customer_id, name) SELECT id, 'project of ' || name FROM customers`);
      await c.query(`INSERT INTO tasks (project_id, title, due_date) SELECT id, 'task', current_date + 7 FROM projects`);
      await c.query(`INSERT INTO invoices (customer_id, amount_cents, status) SELECT id, 1000, 'sent' FROM customers`);
    },
    { controlSchema: tc.config.controlSchema, sharedSchema: tc.config.sharedSchema },
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  tc = await openOn(db.url);
  dir = mkdtempSync(join(tmpdir(), 'tenantctl-verify-'));
  await createTenants(tc, { ids: ['acme', 'globex', 'initech', 'hooli'] });
  await createTenants(tc, { ids: ['keyed'], key: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' });
  for (const id of ['acme', 'globex', 'initech', 'hooli', 'keyed']) await fill(id, 5);
  // migrate: one tenant down two migrations and back up to the head, another left behind at an older version
  await migrateDown(tc, { tenants: ['globex'], count: 2 });
  await migrate(tc, { tenants: ['globex'] });
  await migrateDown(tc, { tenants: ['hooli'], count: 3 });
  // archive and restore; another stays archived
  await removeTenants(tc, { ids: ['initech'] });
  await restoreTenant(tc, 'initech');
  await createTenants(tc, { ids: ['shelved'] });
  await fill('shelved', 2);
  await removeTenants(tc, { ids: ['shelved'] });
});

afterAll(async () => {
  await tc?.close();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('verify on a clean fleet', () => {
  it('after create, migrate, archive and restore: zero violations, exit 0', async () => {
    const r = await verify(tc);
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.tenants.map((t) => t.id)).toEqual(['acme', 'globex', 'hooli', 'initech', 'keyed', 'shelved']);
    const junit = join(dir, 'clean.xml');
    const res = await cliOn(db.url)(['verify', '--json', '--junit', junit]);
    expect(res.code).toBe(0);
    const doc = res.json<{
      version: number;
      ok: boolean;
      tenants: unknown[];
      checks: { name: string; ok: boolean; violations: number }[];
      violations: unknown[];
    }>();
    expect(doc).toMatchObject({ version: 1, ok: true, violations: [] });
    expect(doc.checks.map((c) => [c.name, c.ok, c.violations])).toEqual(
      ['ownership', 'references', 'privileges', 'rls', 'drift', 'registry'].map((name) => [name, true, 0]),
    );
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toContain('failures="0"');
    expect(xml).not.toContain('<failure');
    const human = await cliOn(db.url)(['verify']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('verified 6 tenants, 6 checks (fail on error)');
    expect(human.stdout).toContain('ok: no violations at or above error');
  });

  it('after copy, move and clone too', async () => {
    const copied = await copyRows(tc, { from: 'acme', to: 'globex', remapKeys: true });
    expect(copied.error).toBeUndefined();
    const moved = await moveRows(tc, { from: 'keyed', to: 'acme', remapKeys: true });
    expect(moved.error).toBeUndefined();
    const cloned = await cloneTenant(tc, { from: 'acme', to: 'acme_clone' });
    expect(cloned.error).toBeUndefined();
    const schemaOnly = await cloneTenant(tc, { from: 'globex', to: 'globex_empty', schemaOnly: true });
    expect(schemaOnly.error).toBeUndefined();
    const r = await verify(tc);
    expect(r.violations).toEqual([]);
    const res = await cliOn(db.url)(['verify']);
    expect(res.code).toBe(0);
  });

  it('runs every check at any concurrency: at 1 and 2 the lanes merge, and the pool is enough', async () => {
    const cli = cliOn(db.url);
    type Doc = { violations: unknown[]; checks: { name: string; roundTrips: number }[] };
    const trips = (doc: Doc) => doc.checks.map((c) => [c.name, c.roundTrips]);
    const wide = await cli(['verify', '--json', '--concurrency', '4']);
    expect(wide.code).toBe(0);
    for (const n of ['1', '2']) {
      const narrow = await cli(['verify', '--json', '--concurrency', n]);
      expect({ n, code: narrow.code, violations: narrow.json<Doc>().violations }).toEqual({ n, code: 0, violations: [] });
      expect(trips(narrow.json<Doc>())).toEqual(trips(wide.json<Doc>()));
    }
  });

  it('refuses bad input with exit 2 before any check runs', async () => {
    const cli = cliOn(db.url);
    const unknownCheck = await cli(['verify', '--check', 'ownership,nope', '--json']);
    expect(unknownCheck.code).toBe(2);
    expect(unknownCheck.json<{ error: { code: string } }>().error.code).toBe('unknown_check');
    const badLevel = await cli(['verify', '--fail-on', 'info']);
    expect(badLevel.code).toBe(2);
    expect(badLevel.stderr).toContain('--fail-on must be error or warn');
    const unknownTenant = await cli(['verify', '--tenant', 'nobody', '--json']);
    expect(unknownTenant.code).toBe(2);
    expect(unknownTenant.json<{ error: { code: string } }>().error.code).toBe('unknown_tenant');
    expect((await cli(['verify', '--tenant', 'Bad-Id'])).code).toBe(2);
  });
});

describe('verify on a clean fleet without per-tenant roles', () => {
  it('reports nothing, with another prefix and control schema too', async () => {
    const other = await createTestDatabase();
    const plain = await openOn(other.url, { roles: false, schemaPrefix: 'org_', controlSchema: 'tenancy' });
    try {
      await createTenants(plain, { ids: ['acme', 'globex'] });
      await plain.pool.query(`INSERT INTO org_acme.customers (tenant_id, name) VALUES ('acme', 'a')`);
      const r = await verify(plain);
      expect(r.violations).toEqual([]);
      expect(r.tenants.map((t) => t.id)).toEqual(['acme', 'globex']);
      await plain.pool.query(`INSERT INTO org_globex.customers (tenant_id, name) VALUES ('acme', 'b'); CREATE SCHEMA org_stray`);
      const dirty = await verify(plain);
      expect(dirty.violations.map((v) => [v.check, v.tenant, v.object])).toEqual([
        ['ownership', 'globex', 'customers'],
        ['registry', 'stray', 'schema org_stray'],
      ]);
    } finally {
      await plain.close();
      await other.drop();
    }
  });
});
