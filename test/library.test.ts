import { CONTROL_SCHEMA_VERSION } from '../src/control/ddl.js';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  execAsTenant,
  init,
  listTenants,
  migrate,
  migrateDown,
  newMigration,
  createTenants,
  InputError,
  type Tenantctl,
} from '../src/index.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { scratchProject } from './support/migrations.js';

let db: TestDatabase;
let tc: Tenantctl;
const proj = scratchProject();
beforeAll(async () => {
  db = await createTestDatabase();
  tc = await openOn(db.url, { tenantMigrations: proj.tenant, sharedMigrations: proj.shared });
});
afterAll(async () => {
  await tc.close();
  await db.drop();
});

describe('the library: every command is a function returning data', () => {
  it('init, create, list', async () => {
    expect(await init(tc)).toEqual({
      controlSchema: 'tenantctl',
      controlVersion: { from: 0, to: CONTROL_SCHEMA_VERSION },
      shared: { applied: ['1700000000000_create_plans'] },
    });
    await createTenants(tc, { ids: ['lib_a', 'lib_b'], name: 'Library' });
    const { tenants } = await listTenants(tc);
    expect(tenants.map((t) => [t.id, t.status, t.applied, t.pending])).toEqual([
      ['lib_a', 'active', 9, 0],
      ['lib_b', 'active', 9, 0],
    ]);
    expect((await listTenants(tc, { status: 'archived' })).tenants).toEqual([]);
    await expect(listTenants(tc, { status: 'gone' })).rejects.toBeInstanceOf(InputError);
  });

  it('newMigration, migrate, migrateDown', async () => {
    const { path } = await newMigration(tc, { name: 'add_score', now: 1700000020000 });
    expect(existsSync(path)).toBe(true);
    expect(path.endsWith('1700000020000_add_score.js')).toBe(true);
    tc.cache.tenantMigrations = undefined; // a long-lived context reloads files when told to
    const up = await migrate(tc, { tenants: ['lib_a'] });
    expect(up.tenants).toEqual([{ id: 'lib_a', status: 'migrated', applied: ['1700000020000_add_score'] }]);
    const down = await migrateDown(tc, { tenants: ['lib_a'], count: 2 });
    expect(down.tenants).toEqual([
      { id: 'lib_a', status: 'reverted', applied: ['1700000020000_add_score', '1700000009000_invoice_amount_check'] },
    ]);
    await expect(migrateDown(tc, { tenants: [] })).rejects.toThrow(/needs --tenant/);
  });

  it('execAsTenant returns each statement result', async () => {
    const r = await execAsTenant(tc, {
      tenant: 'lib_b',
      sql: "INSERT INTO customers (name) VALUES ('x'); SELECT tenant_id, name FROM customers",
    });
    expect(r.results.map((s) => s.command)).toEqual(['INSERT', 'SELECT']);
    expect(r.results[1]!.rows).toEqual([{ tenant_id: 'lib_b', name: 'x' }]);
    await expect(execAsTenant(tc, { tenant: 'lib_b', sql: 'SELECT 1/0' })).rejects.toMatchObject({ code: 'sql_error', exitCode: 1 });
    await expect(execAsTenant(tc, { tenant: 'lib_b' })).rejects.toMatchObject({ exitCode: 2 });
  });
});
