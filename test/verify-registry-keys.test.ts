import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, removeTenants, verify, type Tenantctl } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { violationsFrom } from './support/verify.js';

let db: TestDatabase;
let tc: Tenantctl;

beforeAll(async () => {
  db = await createTestDatabase();
  tc = await openOn(db.url);
  await createTenants(tc, { ids: ['acme', 'globex', 'initech', 'hooli', 'clean'] });
  await createTenants(tc, { ids: ['keyed'], key: 'acme-inc' });
  await removeTenants(tc, { ids: ['hooli'] });
  // Two tenants given the same key by hand (whatever uniqueness tenantctl keeps is bypassed first; the
  // journal's key, which the journal's foreign key needs, stays), and an archived tenant sharing a key
  // with an active one: its rows are still there.
  await db.pool.query(`
    DO $$ DECLARE c record; BEGIN
      FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'tenantctl.tenants'::regclass AND contype = 'u'
          AND conindid NOT IN (SELECT f.conindid FROM pg_constraint f WHERE f.contype = 'f' AND f.confrelid = 'tenantctl.tenants'::regclass) LOOP
        EXECUTE format('ALTER TABLE tenantctl.tenants DROP CONSTRAINT %I', c.conname);
      END LOOP;
      FOR c IN SELECT i.indexrelid::regclass::text AS name FROM pg_index i WHERE i.indrelid = 'tenantctl.tenants'::regclass AND i.indisunique AND NOT i.indisprimary
          AND i.indexrelid NOT IN (SELECT f.conindid FROM pg_constraint f WHERE f.contype = 'f' AND f.confrelid = 'tenantctl.tenants'::regclass) LOOP
        EXECUTE 'DROP INDEX ' || c.name;
      END LOOP;
    END $$;
    UPDATE tenantctl.tenants SET key = 'acme' WHERE id = 'globex';
    UPDATE tenantctl.tenants SET key = 'initech' WHERE id = 'hooli';
  `);
});

afterAll(async () => {
  await tc?.close();
  await db?.drop();
});

describe('verify registry: tenants with the same key', () => {
  it('reports each tenant of a shared key, archived ones included', async () => {
    const violations = await violationsFrom(db.url, ['--check', 'registry']);
    expect(violations.map((v) => [v.rule, v.level, v.tenant, v.object]).sort()).toEqual(
      [
        ['duplicate-key', 'error', 'acme', "tenant key 'acme'"],
        ['duplicate-key', 'error', 'globex', "tenant key 'acme'"],
        ['duplicate-key', 'error', 'hooli', "tenant key 'initech'"],
        ['duplicate-key', 'error', 'initech', "tenant key 'initech'"],
      ].sort(),
    );
    expect(violations.find((v) => v.tenant === 'acme')!.detail).toContain('is also the key of tenant globex');
  });

  it('--tenant reports the named tenant, and a tenant with a key of its own is clean', async () => {
    const one = await verify(tc, { checks: ['registry'], tenants: ['globex'] });
    expect(one.violations.map((v) => [v.tenant, v.rule])).toEqual([['globex', 'duplicate-key']]);
    const clean = await verify(tc, { checks: ['registry'], tenants: ['clean', 'keyed'] });
    expect(clean.violations).toEqual([]);
  });
});
