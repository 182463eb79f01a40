import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, verify, type Tenantctl, type VerifyResult } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';

let db: TestDatabase;
let tc: Tenantctl;

const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `t${String(from + i).padStart(3, '0')}`);
const trips = (r: VerifyResult) => Object.fromEntries(r.checks.map((c) => [c.name, c.roundTrips]));

/** One customer in every tenant that has none (empty tables are not probed). */
async function oneCustomerEach(): Promise<void> {
  await db.pool.query(`DO $$ DECLARE t record; BEGIN
    FOR t IN SELECT schema_name, key FROM tenantctl.tenants LOOP
      EXECUTE format('INSERT INTO %I.customers (tenant_id, name) SELECT %L, ''one'' WHERE NOT EXISTS (SELECT 1 FROM %I.customers)', t.schema_name, t.key, t.schema_name);
    END LOOP; END $$`);
}

beforeAll(async () => {
  db = await createTestDatabase();
  tc = await openOn(db.url, { concurrency: 2 });
  await createTenants(tc, { ids: ids(1, 5) });
  await oneCustomerEach();
});

afterAll(async () => {
  await tc?.close();
  await db?.drop();
});

describe('verify at fleet scale', () => {
  it('catalog checks send the same number of statements for 5 tenants as for 200', async () => {
    const small = await verify(tc);
    expect(small.violations).toEqual([]);
    const created = await createTenants(tc, { ids: ids(6, 200), concurrency: 2 });
    expect(created.summary.failed).toBe(0);
    await oneCustomerEach();
    const large = await verify(tc);
    expect(large.violations).toEqual([]);
    expect(large.tenants).toHaveLength(200);
    const catalog = large.checks.filter((c) => c.catalog).map((c) => c.name);
    expect(catalog).toEqual(['references', 'privileges', 'rls', 'drift', 'registry']);
    for (const name of catalog) expect(trips(large)[name], name).toBe(trips(small)[name]);
    // one query each, drift: the digests, and one reference for the one version in use
    expect(trips(large)).toMatchObject({ references: 1, privileges: 1, rls: 1, registry: 1 });
    expect(trips(large).drift).toBeLessThanOrEqual(12);
    // ownership is a data check: one catalog query, then 50 probes per statement (4 tables per tenant)
    expect(trips(small).ownership).toBe(2);
    expect(trips(large).ownership).toBe(1 + Math.ceil((200 * 4) / 50));
  });
});
