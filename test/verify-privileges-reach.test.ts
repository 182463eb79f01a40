import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, type Tenantctl } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { violationsFrom } from './support/verify.js';

let db: TestDatabase;
let tc: Tenantctl;
let role: (id: string) => string;
/** Roles that are no tenant's (server-wide: dropped after the test). */
let other: (name: string) => string;

beforeAll(async () => {
  db = await createTestDatabase();
  tc = await openOn(db.url);
  await createTenants(tc, { ids: ['acme', 'globex', 'initech', 'hooli', 'umbrella', 'wayne', 'clean'] });
  const oid = (await db.pool.query<{ oid: number }>('SELECT oid::int AS oid FROM pg_database WHERE datname = current_database()')).rows[0]!
    .oid;
  role = (id) => `tc${oid}_${id}`;
  other = (name) => `vt${oid}_${name}`;
  await db.pool.query(`
    CREATE ROLE ${other('middle')} NOLOGIN;
    CREATE ROLE ${other('auditors')} NOLOGIN;
    CREATE ROLE ${other('bypass')} NOLOGIN BYPASSRLS;
    CREATE ROLE ${other('reporting')} NOLOGIN;
    CREATE ROLE ${other('monitoring')} NOLOGIN;
    -- a predefined role that reads everything, through a chain; a monitoring one, directly
    GRANT pg_read_all_data TO ${other('middle')};
    GRANT ${other('middle')} TO ${role('acme')};
    GRANT pg_monitor TO ${role('globex')};
    -- CREATEROLE, and a BYPASSRLS role in between
    ALTER ROLE ${role('initech')} CREATEROLE;
    GRANT ${other('bypass')} TO ${role('wayne')};
    -- another tenant's grant reached through a role that is no tenant's
    GRANT USAGE ON SCHEMA tenant_umbrella TO ${other('auditors')};
    GRANT SELECT ON tenant_umbrella.invoices TO ${other('auditors')};
    GRANT SELECT (email) ON tenant_umbrella.customers TO ${other('auditors')};
    GRANT ${other('auditors')} TO ${role('hooli')};
    -- the control schema granted to PUBLIC and to a tenant role
    GRANT USAGE ON SCHEMA tenantctl TO ${role('globex')};
    GRANT SELECT ON tenantctl.tenants TO PUBLIC;
    -- an object outside the tenant's schema owned by its role
    CREATE TABLE public.umbrella_scratch (id int);
    ALTER TABLE public.umbrella_scratch OWNER TO ${role('umbrella')};

    -- legitimate neighbours: a role that is no tenant's, with shared grants only; monitoring for a role no tenant is in
    GRANT SELECT ON public.plans TO ${other('reporting')};
    GRANT ${other('reporting')} TO ${role('clean')};
    GRANT pg_monitor TO ${other('monitoring')};
  `);
});

afterAll(async () => {
  await tc?.close();
  await db?.drop();
  const admin = (await import('pg')).default;
  const c = new admin.Client({ connectionString: db.url.replace(/\/[^/]*$/, '/postgres') });
  await c.connect();
  for (const name of ['middle', 'auditors', 'bypass', 'reporting', 'monitoring']) await c.query(`DROP ROLE IF EXISTS ${other(name)}`);
  await c.end();
});

describe('verify privileges reached indirectly', () => {
  it('reports role chains, role attributes, control schema grants and ownership outside, and nothing about the neighbours', async () => {
    const violations = await violationsFrom(db.url, ['--check', 'privileges']);
    const found = violations.map((v) => [v.rule, v.level, v.tenant, v.object]).sort();
    expect(found).toEqual(
      [
        ['predefined-role', 'error', 'acme', `role ${role('acme')}`],
        ['predefined-role', 'warn', 'globex', `role ${role('globex')}`],
        ['role-reach', 'error', 'initech', `role ${role('initech')}`],
        ['role-reach', 'error', 'wayne', `role ${role('wayne')}`],
        ['indirect-grant', 'error', 'umbrella', 'schema tenant_umbrella'],
        ['indirect-grant', 'error', 'umbrella', 'table invoices'],
        ['indirect-grant', 'error', 'umbrella', 'column customers.email'],
        ['control-grant', 'error', 'globex', 'schema tenantctl'],
        ['control-grant', 'error', null, 'table tenantctl.tenants'],
        ['owned-outside', 'error', 'umbrella', 'table public.umbrella_scratch'],
      ].sort(),
    );
    const chain = violations.find((v) => v.rule === 'predefined-role' && v.tenant === 'acme')!;
    expect(chain.detail).toContain(`pg_read_all_data (through ${other('middle')})`);
    const reached = violations.find((v) => v.rule === 'indirect-grant' && v.object === 'table invoices')!;
    expect(reached.detail).toContain(
      `role ${role('hooli')} of tenant hooli reaches it through role ${other('auditors')}, which has SELECT`,
    );
  });
});
