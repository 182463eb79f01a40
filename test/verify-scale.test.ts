import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, verify, type Tenantctl, type VerifyResult } from '../src/index.js';
import { readTenants } from '../src/control/tenants.js';
import type { Queryable } from '../src/db/types.js';
import { databaseOid } from '../src/roles/names.js';
import { tenantMigrations } from '../src/runtime/migration-files.js';
import { withCatalogSession } from '../src/verify/catalog-session.js';
import { CHECKS } from '../src/verify/checks/index.js';
import { StatementSlots } from '../src/verify/slots.js';
import type { VerifyScope } from '../src/verify/types.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';

let db: TestDatabase;
let tc: Tenantctl;

// 20 tenants: enough for the statement counts to show they do not grow, and for a plan that rescans a
// catalog or the fleet for every row to show in its loop counts; bench/verify.mjs runs the large fleets.
const FLEET = 20;
const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `t${String(from + i).padStart(3, '0')}`);
const trips = (r: VerifyResult) => Object.fromEntries(r.checks.map((c) => [c.name, c.roundTrips]));

/** One customer in every tenant that has none (empty tables are not probed). */
async function oneCustomerEach(): Promise<void> {
  await db.pool.query(`DO $$ DECLARE t record; BEGIN
    FOR t IN SELECT schema_name, key FROM tenantctl.tenants LOOP
      EXECUTE format('INSERT INTO %I.customers (tenant_id, name) SELECT %L, ''one'' WHERE NOT EXISTS (SELECT 1 FROM %I.customers)', t.schema_name, t.key, t.schema_name);
    END LOOP; END $$`);
}

/** A node of `EXPLAIN (ANALYZE, FORMAT JSON)`. */
interface PlanNode {
  'Node Type': string;
  'Actual Loops': number;
  'Actual Rows': number;
  'Rows Removed by Filter'?: number;
  'Relation Name'?: string;
  'CTE Name'?: string;
  'Function Name'?: string;
  Plans?: PlanNode[];
}

/** Functions a plan runs once per row of its outer side, over that row's own values (an ACL, a body): linear. */
const PER_ROW_FUNCTIONS = new Set(['aclexplode', 'regexp_matches', 'unnest', 'jsonb_array_elements_text']);
/** Catalogs whose size does not grow with the fleet (access methods, operator classes): reading one per row stays linear. */
const FIXED_CATALOGS = new Set(['pg_am', 'pg_opclass']);
/** Node types that read a whole relation, set or hash when they run: run once per row of something, they make a plan quadratic. */
const WHOLE_READS = new Set(['Seq Scan', 'CTE Scan', 'Materialize', 'Function Scan', 'Hash', 'Sort']);

/**
 * The nodes of a plan that read a whole relation or set again and again: more than 16 times (a
 * recursion over role chains or dependencies runs a few rounds), more than one row each time. A
 * nested loop that rescans pg_depend, pg_class or the fleet for each row of the other side shows
 * here at any fleet size; index scans (one probe per row) do not.
 */
function rescans(node: PlanNode, out: string[] = []): string[] {
  const rows = node['Actual Rows'] + (node['Rows Removed by Filter'] ?? 0);
  const fn = node['Function Name'];
  const fixed = (fn && PER_ROW_FUNCTIONS.has(fn)) || FIXED_CATALOGS.has(node['Relation Name'] ?? '');
  if (WHOLE_READS.has(node['Node Type']) && node['Actual Loops'] > 16 && rows > 1 && !fixed) {
    const what = node['Relation Name'] ?? node['CTE Name'] ?? fn ?? '';
    out.push(`${node['Node Type']} ${what}: ${node['Actual Loops']} loops of ${rows} rows`);
  }
  for (const child of node.Plans ?? []) rescans(child, out);
  return out;
}

interface Explained {
  /** `<check> query <n>`: the check, and which of its catalog queries. */
  query: string;
  plan: PlanNode;
}

/** A view of `db` that runs `EXPLAIN (ANALYZE, FORMAT JSON)` of every catalog query (they start WITH) before the query itself. */
function explaining(db: Queryable, check: string, plans: Explained[]): Queryable {
  return {
    query: (async (text: string, values?: unknown[]) => {
      if (/^\s*WITH\b/i.test(text)) {
        const r = await db.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, values);
        plans.push({
          query: `${check} query ${plans.filter((p) => p.query.startsWith(`${check} `)).length + 1}`,
          plan: r.rows[0]!['QUERY PLAN'][0]!.Plan,
        });
      }
      return db.query(text, values);
    }) as Queryable['query'],
  };
}

/** Every check's queries on one catalog session, each explained first: the plans, and the findings (there should be none). */
async function explainChecks(): Promise<{ plans: Explained[]; findings: number }> {
  const registry = await readTenants(tc.pool, tc);
  const oid = await databaseOid(tc.pool, tc);
  const plans: Explained[] = [];
  let findings = 0;
  await withCatalogSession(tc, async (session) => {
    const scope = (check: string): VerifyScope => ({
      ctx: tc,
      db: explaining(session, check, plans),
      pool: tc.pool,
      slots: new StatementSlots(2),
      session: (fn) => withCatalogSession(tc, (other) => fn(explaining(other, check, plans))),
      tenants: registry,
      registry,
      databaseOid: oid,
      narrowed: false,
      migrations: () => tenantMigrations(tc),
      fleetKeys: registry.map((t) => ({ id: t.id, key: t.key, server: 'default' })),
    });
    for (const check of CHECKS) findings += (await check.run(scope(check.id))).filter((f) => !f.note).length;
  });
  return { plans, findings };
}

const analyzedCatalogs = async () =>
  Number(
    (
      await db.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_sys_tables WHERE relname IN ('pg_depend', 'pg_class', 'pg_proc', 'pg_type', 'pg_attribute')
            AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)`,
      )
    ).rows[0]!.n,
  );

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
    // references and rls: two queries (the tenants' own objects, and what reaches across); privileges: both parts in one;
    // drift: the schemas' oids, their digests, one replay
    expect(trips(large)).toMatchObject({ references: 2, privileges: 1, rls: 2, registry: 1 });
    expect(trips(large).drift).toBeLessThanOrEqual(12);
    // ownership is a data check: one catalog query, then 50 probes per statement (4 tables per tenant)
    expect(trips(small).ownership).toBe(2);
    expect(trips(large).ownership).toBe(1 + Math.ceil((FLEET * 4) / 50));
  });

  it('on a fresh database (catalog statistics from template1) no plan rereads a catalog or the fleet for each row, nor after ANALYZE', async () => {
    // The database was made for this file and nothing analyzed its catalogs yet: the planner sees template1's statistics
    // (it estimates one row where there are hundreds), the case where a plan built on estimates rescans pg_depend per row.
    const before = await analyzedCatalogs();
    const fresh = await explainChecks();
    expect(fresh.findings).toBe(0);
    // every catalog query of every check, the replay's read of the scratch schema (entries and index shapes) included
    expect(fresh.plans.length).toBeGreaterThanOrEqual(9);
    for (const { query, plan } of fresh.plans) expect(rescans(plan), `${query} (catalogs analyzed before: ${before} of 5)`).toEqual([]);
    await db.pool.query('ANALYZE pg_depend, pg_class, pg_proc, pg_type, pg_namespace, pg_attribute, pg_constraint, pg_rewrite, pg_trigger');
    const analyzed = await explainChecks();
    expect(analyzed.plans.map((p) => p.query)).toEqual(fresh.plans.map((p) => p.query));
    for (const { query, plan } of analyzed.plans) expect(rescans(plan), `${query}, after ANALYZE`).toEqual([]);
  });
});
