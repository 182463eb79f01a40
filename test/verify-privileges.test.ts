import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, type Tenantctl } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { violationsFrom } from './support/verify.js';

let db: TestDatabase;
let tc: Tenantctl;
let role: (id: string) => string;

beforeAll(async () => {
  db = await createTestDatabase();
  tc = await openOn(db.url);
  await createTenants(tc, { ids: ['acme', 'globex', 'initech', 'hooli', 'umbrella', 'clean'] });
  const oid = (await db.pool.query<{ oid: number }>('SELECT oid::int AS oid FROM pg_database WHERE datname = current_database()')).rows[0]!
    .oid;
  role = (id) => `tc${oid}_${id}`;
  await db.pool.query(`
    -- grants to another tenant's role and to PUBLIC: table, schema, sequence, function, column
    GRANT SELECT ON tenant_acme.customers TO ${role('globex')};
    GRANT USAGE ON SCHEMA tenant_acme TO PUBLIC;
    GRANT USAGE ON SEQUENCE tenant_acme.invoice_number_seq TO PUBLIC;
    GRANT EXECUTE ON FUNCTION tenant_acme.set_updated_at() TO ${role('initech')};
    GRANT SELECT (name) ON tenant_acme.projects TO ${role('hooli')};
    -- a function created outside tenantctl: executable by PUBLIC by default
    CREATE FUNCTION tenant_hooli.helper() RETURNS int LANGUAGE sql AS 'SELECT 1';
    -- tenant roles that are superuser, BYPASSRLS, or members of another tenant's role
    ALTER ROLE ${role('globex')} SUPERUSER;
    ALTER ROLE ${role('initech')} BYPASSRLS;
    GRANT ${role('acme')} TO ${role('hooli')};
    -- default privileges that leak future objects: in a tenant's schema, and everywhere
    ALTER DEFAULT PRIVILEGES IN SCHEMA tenant_umbrella GRANT SELECT ON TABLES TO ${role('acme')};
    ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO ${role('clean')};
    -- a tenant role that can create in the shared schema
    GRANT CREATE ON SCHEMA public TO ${role('umbrella')};
    -- a table of one tenant owned by another tenant's role
    ALTER TABLE tenant_globex.tasks OWNER TO ${role('hooli')};
  `);
});

afterAll(async () => {
  await db?.pool.query(`ALTER DEFAULT PRIVILEGES REVOKE SELECT ON TABLES FROM ${role('clean')}`).catch(() => undefined);
  await db?.pool.query(`ALTER ROLE ${role('globex')} NOSUPERUSER`).catch(() => undefined);
  await tc?.close();
  await db?.drop();
});

describe('verify privileges', () => {
  it('reports every kind of leaking privilege with its tenant and object, and exits 1', async () => {
    const doc = { violations: await violationsFrom(db.url, ['--check', 'privileges']) };
    const found = doc.violations.map(({ check, tenant, object }) => ({ check, tenant, object }));
    const expected = [
      ['acme', 'table customers', `role ${role('globex')} of tenant globex has SELECT`],
      ['acme', 'schema tenant_acme', 'PUBLIC has USAGE'],
      ['acme', 'sequence invoice_number_seq', 'PUBLIC has USAGE'],
      ['acme', 'function set_updated_at()', `role ${role('initech')} of tenant initech has EXECUTE`],
      ['acme', 'column projects.name', `role ${role('hooli')} of tenant hooli has SELECT`],
      ['hooli', 'function helper()', 'PUBLIC has EXECUTE'],
      ['globex', `role ${role('globex')}`, 'is a superuser'],
      ['initech', `role ${role('initech')}`, 'bypasses row level security'],
      ['hooli', `role ${role('hooli')}`, `is a member of ${role('acme')} of tenant acme`],
      ['umbrella', 'default privileges of postgres on tables', `to role ${role('acme')} of tenant acme`],
      ['clean', 'default privileges of postgres on tables', `will grant SELECT to role ${role('clean')}`],
      ['umbrella', `role ${role('umbrella')}`, 'can CREATE in the shared schema public'],
      ['globex', 'table tasks', `is owned by role ${role('hooli')} of tenant hooli`],
      // consequences of the plants above, reported too: an owner holds every privilege, its sequence moves with it,
      // and a superuser can create anywhere
      ['globex', 'table tasks', `role ${role('hooli')} of tenant hooli has DELETE, INSERT`],
      ['globex', 'sequence tasks_id_seq', `is owned by role ${role('hooli')}`],
      ['globex', 'sequence tasks_id_seq', `role ${role('hooli')} of tenant hooli has SELECT, UPDATE, USAGE`],
      ['globex', `role ${role('globex')}`, 'can CREATE in the shared schema public'],
    ];
    for (const [tenant, object, detail] of expected) {
      expect(doc.violations, `${tenant} ${object}`).toContainEqual(
        expect.objectContaining({ check: 'privileges', tenant, object, detail: expect.stringContaining(detail!), level: 'error' }),
      );
    }
    expect(found.length).toBe(expected.length);
  });
});
