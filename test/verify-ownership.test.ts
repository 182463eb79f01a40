import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, verify, type Tenantctl, type Violation } from '../src/index.js';
import { probeSql } from '../src/verify/checks/ownership/probe-sql.js';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';

const UUID_KEY = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
let db: TestDatabase;
let tc: Tenantctl;

beforeAll(async () => {
  db = await createTestDatabase();
  tc = await openOn(db.url);
  await createTenants(tc, { ids: ['acme', 'globex', 'initech', 'clean'] });
  await createTenants(tc, { ids: ['uuidco'], key: UUID_KEY });
  await db.pool.query(`
    -- wrong key and NULL
    INSERT INTO tenant_acme.customers (tenant_id, name) VALUES ('globex', 'a'), ('globex', 'b'), ('acme', 'ok');
    ALTER TABLE tenant_acme.projects ALTER COLUMN tenant_id DROP NOT NULL;
    INSERT INTO tenant_acme.projects (tenant_id, customer_id, name) SELECT NULL, id, 'p' FROM tenant_acme.customers LIMIT 1;
    -- a table without an index: found by a scan; the same table of globex lacks the column
    CREATE TABLE tenant_initech.notes (id int, tenant_id text);
    INSERT INTO tenant_initech.notes VALUES (1, 'initech'), (2, 'acme');
    CREATE TABLE tenant_globex.notes (id int);
    -- the column's type decides: an upper-case uuid is the same uuid; another uuid is not
    CREATE TABLE tenant_uuidco.things (id int, tenant_id uuid);
    CREATE INDEX ON tenant_uuidco.things (tenant_id);
    INSERT INTO tenant_uuidco.things VALUES (1, upper('${UUID_KEY}')::uuid), (2, '${UUID_KEY}');
    CREATE TABLE tenant_uuidco.gadgets (id int, tenant_id uuid);
    CREATE INDEX ON tenant_uuidco.gadgets (tenant_id);
    INSERT INTO tenant_uuidco.gadgets VALUES (1, '${UUID_KEY}'), (2, gen_random_uuid());
    -- a key that the column's type cannot hold
    CREATE TABLE tenant_clean.counters (id int, tenant_id int);
    INSERT INTO tenant_clean.counters VALUES (1, 1);
    -- a big clean table, probed through its index
    INSERT INTO tenant_clean.customers (tenant_id, name) SELECT 'clean', 'c' || g FROM generate_series(1, 20000) g;
  `);
});

afterAll(async () => {
  await tc?.close();
  await db?.drop();
});

const errors = (vs: Violation[]) => vs.filter((v) => v.level !== 'info').map(({ check, tenant, object }) => ({ check, tenant, object }));

describe('verify ownership', () => {
  it('reports rows with another key, NULL rows, a missing column, and keys the type cannot hold', async () => {
    const r = await verify(tc, { checks: ['ownership'] });
    expect(errors(r.violations)).toEqual(
      expect.arrayContaining([
        { check: 'ownership', tenant: 'acme', object: 'customers' },
        { check: 'ownership', tenant: 'acme', object: 'projects' },
        { check: 'ownership', tenant: 'initech', object: 'notes' },
        { check: 'ownership', tenant: 'globex', object: 'notes' },
        { check: 'ownership', tenant: 'uuidco', object: 'gadgets' },
        { check: 'ownership', tenant: 'clean', object: 'counters.tenant_id' },
      ]),
    );
    expect(errors(r.violations)).toHaveLength(6);
    const customers = r.violations.find((v) => v.tenant === 'acme' && v.object === 'customers')!;
    expect(customers.detail).toMatch(/^2 rows whose tenant_id is not the tenant key 'acme': 'globex' \(2\)/);
    expect(r.violations.find((v) => v.object === 'projects')!.detail).toContain('NULL (1)');
    expect(r.violations.find((v) => v.tenant === 'globex')!.detail).toContain('has no tenant_id column');
    // the unindexed table is noted (not a violation), and the run fails
    expect(r.notes).toContainEqual(expect.objectContaining({ check: 'ownership', tenant: 'initech', object: 'notes.tenant_id' }));
    expect(r.ok).toBe(false);
    expect(r.tenants.find((t) => t.id === 'uuidco')).toMatchObject({ ok: false, violations: 1 });
  });

  it('exits 1 through the CLI, with the check id, tenant and object in the JSON', async () => {
    const res = await cliOn(db.url)(['verify', '--check', 'ownership', '--tenant', 'acme', '--json']);
    expect(res.code).toBe(1);
    const doc = res.json<{ ok: boolean; checks: { name: string; ok: boolean; violations: number }[]; violations: Violation[] }>();
    expect(doc.ok).toBe(false);
    expect(doc.checks).toEqual([expect.objectContaining({ name: 'ownership', ok: false, violations: 2 })]);
    expect(doc.violations.map((v) => [v.check, v.tenant, v.object, v.level])).toEqual([
      ['ownership', 'acme', 'customers', 'error'],
      ['ownership', 'acme', 'projects', 'error'],
    ]);
  });

  it('reads an indexed column through its index, without statistics', async () => {
    await db.pool.query(`CREATE TABLE tenant_clean.big (id int, tenant_id text NOT NULL);
      INSERT INTO tenant_clean.big SELECT g, 'clean' FROM generate_series(1, 200000) g;
      CREATE INDEX ON tenant_clean.big (tenant_id);`);
    const table = {
      tenant: 'clean',
      schema: 'tenant_clean',
      table: 'big',
      column: 'tenant_id',
      kind: 'r' as const,
      hasColumn: true,
      typeSchema: 'pg_catalog',
      typeName: 'text',
      typeLabel: 'text',
      indexed: true,
      othersHave: false,
      pages: 1000,
      tuples: 200000,
    };
    const plan = await db.pool.query(`EXPLAIN ${probeSql(table, 'index', 0, 1)}`, ['clean']);
    const text = plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
    expect(text).toMatch(/Index (Only )?Scan/);
    expect(text).not.toMatch(/Seq Scan/);
    const r = await verify(tc, { checks: ['ownership'], tenants: ['clean'] });
    expect(errors(r.violations)).toEqual([{ check: 'ownership', tenant: 'clean', object: 'counters.tenant_id' }]);
    await db.pool.query(`INSERT INTO tenant_clean.big VALUES (0, 'zzz')`);
    const again = await verify(tc, { checks: ['ownership'], tenants: ['clean'] });
    expect(again.violations.find((v) => v.object === 'big')?.detail).toMatch(
      /^1 row whose tenant_id is not the tenant key 'clean': 'zzz' \(1\)/,
    );
  });
});
