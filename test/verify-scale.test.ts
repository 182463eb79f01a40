import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, verify, type Tenantctl, type VerifyResult } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';

let db: TestDatabase;
let tc: Tenantctl;

// 40 tenants: enough for the statement counts to show they do not grow, and for a plan that rescans
// pg_depend per row to cost seconds; bench/verify.mjs runs the large fleets.
const FLEET = 40;
const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `t${String(from + i).padStart(3, '0')}`);
const trips = (r: VerifyResult) => Object.fromEntries(r.checks.map((c) => [c.name, c.roundTrips]));
const seconds = (r: VerifyResult, check: string) => r.checks.find((c) => c.name === check)!.seconds;

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
  it(`catalog checks send the same number of statements for 5 tenants as for ${FLEET}`, async () => {
    const small = await verify(tc);
    expect(small.violations).toEqual([]);
    const created = await createTenants(tc, { ids: ids(6, FLEET), concurrency: 2 });
    expect(created.summary.failed).toBe(0);
    await oneCustomerEach();
    const large = await verify(tc);
    expect(large.violations).toEqual([]);
    expect(large.tenants).toHaveLength(FLEET);
    const catalog = large.checks.filter((c) => c.catalog).map((c) => c.name);
    expect(catalog).toEqual(['references', 'privileges', 'rls', 'drift', 'registry']);
    for (const name of catalog) expect(trips(large)[name], name).toBe(trips(small)[name]);
    // two queries each (the tenants' own objects, and what reaches across), drift: the digests and one replay
    expect(trips(large)).toMatchObject({ references: 2, privileges: 2, rls: 2, registry: 1 });
    expect(trips(large).drift).toBeLessThanOrEqual(12);
    // ownership is a data check: one catalog query, then 50 probes per statement (4 tables per tenant)
    expect(trips(small).ownership).toBe(2);
    expect(trips(large).ownership).toBe(1 + Math.ceil((FLEET * 4) / 50));
  });

  it('on a fresh database (catalog statistics from template1) the catalog checks take about as long as after ANALYZE', async () => {
    // The database was created for this file and nothing analyzed its catalogs: their statistics are template1's.
    const analyzed = await db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_sys_tables WHERE relname IN ('pg_depend', 'pg_class', 'pg_proc', 'pg_type') AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)`,
    );
    const checks = ['references', 'privileges', 'rls', 'drift', 'registry'];
    const fresh = await verify(tc, { checks });
    expect(fresh.violations).toEqual([]);
    await db.pool.query('ANALYZE pg_depend, pg_class, pg_proc, pg_type, pg_namespace, pg_attribute, pg_constraint, pg_rewrite, pg_trigger');
    const after = await verify(tc, { checks });
    expect(after.violations).toEqual([]);
    // A plan built on template1's estimates rescanned pg_depend for each of the fleet's objects: seconds at this size,
    // against a tenth of one after ANALYZE. The bound leaves room for a busy machine, not for that plan.
    for (const check of checks) {
      expect(seconds(fresh, check), `${check} (catalog analyzed before: ${analyzed.rows[0]!.n} of 4)`).toBeLessThan(
        3 * seconds(after, check) + 0.5,
      );
    }
  });
});
