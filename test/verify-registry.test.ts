import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, removeTenants, type Tenantctl, type Violation } from '../src/index.js';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { violationsFrom } from './support/verify.js';

let db: TestDatabase;
let tc: Tenantctl;
let role: (id: string) => string;

beforeAll(async () => {
  db = await createTestDatabase();
  tc = await openOn(db.url);
  await createTenants(tc, { ids: ['acme', 'gone', 'norole', 'arch', 'shelved', 'clean'] });
  await removeTenants(tc, { ids: ['arch', 'shelved'] });
  const oid = (await db.pool.query<{ oid: number }>('SELECT oid::int AS oid FROM pg_database WHERE datname = current_database()')).rows[0]!
    .oid;
  role = (id) => `tc${oid}_${id}`;
  await db.pool.query(`
    CREATE SCHEMA tenant_ghost;                                   -- a tenant schema nobody registered
    CREATE SCHEMA "tenant_old$archived";                          -- an archived one too
    CREATE ROLE ${role('phantom')} NOLOGIN;                        -- a tenant role nobody has
    DROP SCHEMA tenant_gone CASCADE;                              -- a registry row without its schema
    DROP OWNED BY ${role('norole')}; DROP ROLE ${role('norole')};  -- a registry row without its role
    GRANT USAGE ON SCHEMA "tenant_arch$archived" TO ${role('arch')};   -- archived, but still has access
    INSERT INTO tenantctl.tenant_migrations (tenant_id, name, checksum) VALUES ('acme', '1600000000000_removed_file', 'x');
  `);
});

afterAll(async () => {
  await tc?.close();
  await db?.drop();
});

describe('verify registry', () => {
  it('reports the registry and the catalog disagreeing, and exits 1', async () => {
    const doc = { violations: await violationsFrom(db.url, ['--check', 'registry']) };
    expect(doc.violations.map(({ check, tenant, object, level }) => [check, tenant, object, level]).sort()).toEqual(
      [
        ['registry', 'ghost', 'schema tenant_ghost', 'warn'],
        ['registry', 'old', 'schema tenant_old$archived', 'warn'],
        ['registry', 'phantom', `role ${role('phantom')}`, 'warn'],
        ['registry', 'gone', 'schema tenant_gone', 'error'],
        ['registry', 'norole', `role ${role('norole')}`, 'error'],
        ['registry', 'arch', `role ${role('arch')}`, 'error'],
        ['registry', 'acme', 'migration 1600000000000_removed_file', 'warn'],
      ].sort(),
    );
    expect(doc.violations.find((v) => v.tenant === 'arch')!.detail).toBe(
      'belongs to an archived tenant but still has USAGE on tenant_arch$archived',
    );
  });

  it('with --tenant, only the named tenants: warnings pass unless --fail-on warn', async () => {
    const cli = cliOn(db.url);
    const lenient = await cli(['verify', '--check', 'registry', '--tenant', 'acme', '--json']);
    expect(lenient.code).toBe(0);
    expect(lenient.json<{ violations: Violation[] }>().violations.map((v) => v.object)).toEqual(['migration 1600000000000_removed_file']);
    expect((await cli(['verify', '--check', 'registry', '--tenant', 'acme', '--fail-on', 'warn'])).code).toBe(1);
    expect((await cli(['verify', '--check', 'registry', '--tenant', 'shelved', 'clean'])).code).toBe(0);
  });
});
