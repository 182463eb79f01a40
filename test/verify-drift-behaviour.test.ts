import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, verify, type Tenantctl } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { violationsFrom } from './support/verify.js';

let db: TestDatabase;
let tc: Tenantctl;

beforeAll(async () => {
  db = await createTestDatabase();
  tc = await openOn(db.url);
  await createTenants(tc, { ids: ['acme', 'globex', 'initech', 'hooli', 'clean'] });
  await db.pool.query(`
    ALTER TABLE tenant_acme.tasks DISABLE TRIGGER tasks_updated_at;                 -- a migration's trigger, disabled
    ALTER TABLE tenant_globex.projects ENABLE REPLICA TRIGGER projects_updated_at;  -- fires on replicas only
    ALTER TABLE tenant_initech.customers ENABLE ROW LEVEL SECURITY;                 -- behaviour the migrations do not give
    CREATE POLICY mine ON tenant_hooli.customers USING (true);                      -- a policy made by hand
    -- legitimate: disabled and enabled again
    ALTER TABLE tenant_clean.tasks DISABLE TRIGGER tasks_updated_at;
    ALTER TABLE tenant_clean.tasks ENABLE TRIGGER tasks_updated_at;
  `);
});

afterAll(async () => {
  await tc?.close();
  await db?.drop();
});

describe('verify drift in behaviour', () => {
  it('reports disabled triggers, row level security and policies that differ from the migrations', async () => {
    const violations = await violationsFrom(db.url, ['--check', 'drift']);
    expect(violations.map((v) => [v.rule, v.level, v.tenant, v.object]).sort()).toEqual(
      [
        ['disabled', 'error', 'acme', 'trigger tasks.tasks_updated_at'],
        ['disabled', 'error', 'globex', 'trigger projects.projects_updated_at'],
        ['changed', 'error', 'initech', 'table customers'],
        ['extra', 'warn', 'hooli', 'policy customers.mine'],
      ].sort(),
    );
    expect(violations.find((v) => v.tenant === 'acme')!.detail).toBe('is disabled, while the migrations leave it enabled: it does not run');
    expect(violations.find((v) => v.tenant === 'globex')!.detail).toContain('is enabled on replicas only');
  });

  it('a trigger enabled again is not drift', async () => {
    const r = await verify(tc, { checks: ['drift'], tenants: ['clean'] });
    expect(r.violations).toEqual([]);
  });
});
