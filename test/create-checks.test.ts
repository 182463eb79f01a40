import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTROL_SCHEMA_VERSION } from '../src/control/ddl.js';
import { createTenants, fillPool, init, TenantctlError, type Tenantctl } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { scratchProject } from './support/migrations.js';

// What tenant create checks before it makes anything, through the library in one handle (the way an
// application creates tenants at sign-up): in one statement, with every guarantee kept.

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

function open(name: string, proj = scratchProject()): Promise<Tenantctl> {
  return openOn(db.url, {
    tenantMigrations: proj.tenant,
    sharedMigrations: proj.shared,
    controlSchema: `ctl_${name}`,
    schemaPrefix: `${name}_`,
    sharedSchema: `${name}_shared`,
  });
}

async function rejection(p: Promise<unknown>): Promise<TenantctlError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TenantctlError);
  return err as TenantctlError;
}

const count = async (sql: string, params: unknown[] = []) => (await db.pool.query<{ n: number }>(sql, params)).rows[0]!.n;

describe('create checks before it makes anything', () => {
  it('through the library, a creation is three round trips: the checks, BEGIN, COMMIT with the session reset', async () => {
    const tc = await open('trips');
    try {
      await init(tc);
      await createTenants(tc, { ids: ['first'] });
      await fillPool(tc, { count: 2 });
      const trips = async (id: string) => {
        const before = tc.stats.roundTrips;
        const r = await createTenants(tc, { ids: [id] });
        return { method: r.tenants[0]!.method, trips: tc.stats.roundTrips - before };
      };
      expect(await trips('from_pool')).toEqual({ method: 'pool', trips: 3 });
      expect(await trips('from_pool_too')).toEqual({ method: 'pool', trips: 3 });
      expect(await trips('from_template')).toEqual({ method: 'template', trips: 3 });
      expect(await count(`SELECT count(*)::int AS n FROM ctl_trips.tenants WHERE NOT pooled`)).toBe(4);
      // A taken spare's journal keeps the spare's id: that id is taken, as a registered one is.
      const kept = (await db.pool.query<{ j: string }>(`SELECT journal_id AS j FROM ctl_trips.tenants WHERE id = 'from_pool'`)).rows[0]!.j;
      expect(kept).toMatch(/^pool_/);
      const again = await rejection(createTenants(tc, { ids: [kept] }));
      expect([again.exitCode, again.message]).toEqual([2, expect.stringContaining(`tenant "${kept}" already exists`)]);
      expect(await count(`SELECT count(*)::int AS n FROM ctl_trips.tenants WHERE NOT pooled`)).toBe(4);
    } finally {
      await tc.close();
    }
  });

  it('a key or schema clash after earlier creations in the same handle is exit 2 and changes nothing', async () => {
    const tc = await open('clash');
    try {
      await createTenants(tc, { ids: ['owner'], key: 'acme' });
      await db.pool.query('CREATE SCHEMA clash_squatter');
      const ops = await count('SELECT count(*)::int AS n FROM ctl_clash.operations');
      const key = await rejection(createTenants(tc, { ids: ['second'], key: 'acme' }));
      expect([key.exitCode, key.message]).toEqual([2, expect.stringContaining('already belongs to tenant "owner"')]);
      const schema = await rejection(createTenants(tc, { ids: ['fresh', 'squatter'] }));
      expect([schema.exitCode, schema.message]).toEqual([2, expect.stringContaining('schema "clash_squatter" already exists')]);
      expect((await db.pool.query(`SELECT id FROM ctl_clash.tenants ORDER BY id`)).rows).toEqual([{ id: 'owner' }]);
      expect(await count(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname IN ('clash_second', 'clash_fresh')`)).toBe(0);
      expect(await count('SELECT count(*)::int AS n FROM ctl_clash.operations')).toBe(ops);
    } finally {
      await tc.close();
    }
  });

  it('shared migrations added since init are applied before the first tenant, whose migrations use them', async () => {
    const proj = scratchProject();
    const first = await open('shared', proj);
    await init(first);
    await first.close();
    writeFileSync(
      join(proj.shared, '1800000000000_create_regions.sql'),
      `-- Up Migration\nCREATE TABLE regions (id int PRIMARY KEY, name text NOT NULL);\nINSERT INTO regions VALUES (1, 'eu');\n`,
    );
    proj.add('1800000000000_create_sites', 'CREATE TABLE sites (id int PRIMARY KEY, region int NOT NULL REFERENCES regions (id));');
    const tc = await open('shared', proj);
    try {
      const r = await createTenants(tc, { ids: ['s1'] });
      expect(r.tenants.map((t) => [t.id, t.status])).toEqual([['s1', 'created']]);
      expect(await count(`SELECT count(*)::int AS n FROM ctl_shared.shared_migrations WHERE name = '1800000000000_create_regions'`)).toBe(
        1,
      );
      await db.pool.query('INSERT INTO shared_s1.sites VALUES (1, 1)');
    } finally {
      await tc.close();
    }
  });

  it('an older control schema (version 2: no placements, the journal keyed by id) is upgraded, then a spare taken', async () => {
    const tc = await open('old');
    try {
      await createTenants(tc, { ids: ['before'] });
      await fillPool(tc, { count: 1 });
    } finally {
      await tc.close();
    }
    await db.pool.query(
      `ALTER TABLE ctl_old.tenant_migrations DROP CONSTRAINT tenant_migrations_journal_fkey;
       ALTER TABLE ctl_old.tenant_migrations ADD CONSTRAINT tenant_migrations_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES ctl_old.tenants (id) ON DELETE CASCADE;
       ALTER TABLE ctl_old.tenants DROP COLUMN journal_id; DROP TABLE ctl_old.placements;
       UPDATE ctl_old.meta SET value = '2' WHERE key = 'schema_version'`,
    );
    const again = await open('old');
    try {
      const r = await createTenants(again, { ids: ['o1'] });
      expect(r.tenants.map((t) => [t.id, t.status, t.method])).toEqual([['o1', 'created', 'pool']]);
      expect((await db.pool.query(`SELECT value FROM ctl_old.meta WHERE key = 'schema_version'`)).rows).toEqual([
        { value: String(CONTROL_SCHEMA_VERSION) },
      ]);
      const journals = await db.pool.query(
        `SELECT t.id, count(m.name)::int AS n FROM ctl_old.tenants t LEFT JOIN ctl_old.tenant_migrations m ON m.tenant_id = t.journal_id GROUP BY 1 ORDER BY 1`,
      );
      const files = again.cache.tenantMigrations!.list.length;
      expect(journals.rows).toEqual([
        { id: 'before', n: files },
        { id: 'o1', n: files },
      ]);
    } finally {
      await again.close();
    }
  });
});
