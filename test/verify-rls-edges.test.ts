import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, type Tenantctl } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { violationsFrom } from './support/verify.js';

let db: TestDatabase;
let tc: Tenantctl;
let role: (id: string) => string;

const KEY = `current_setting('tenantctl.tenant_key', true)`;
const protect = (table: string, using = `tenant_id = ${KEY}`) =>
  `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY; CREATE POLICY tenant ON ${table} USING (${using});`;

beforeAll(async () => {
  db = await createTestDatabase();
  tc = await openOn(db.url);
  await createTenants(tc, { ids: ['acme', 'globex', 'clean'] });
  const oid = (await db.pool.query<{ oid: number }>('SELECT oid::int AS oid FROM pg_database WHERE datname = current_database()')).rows[0]!
    .oid;
  role = (id) => `tc${oid}_${id}`;
  await db.pool.query(`
    -- a partitioned shared table with row level security, one partition without
    CREATE TABLE public.metrics (tenant_id text NOT NULL, v int) PARTITION BY LIST (tenant_id);
    ${protect('public.metrics')}
    CREATE TABLE public.metrics_a PARTITION OF public.metrics FOR VALUES IN ('acme');
    ${protect('public.metrics_a')}
    CREATE TABLE public.metrics_b PARTITION OF public.metrics FOR VALUES IN ('globex');
    -- a tenant's partitioned table with row level security, one partition two levels down without
    CREATE TABLE tenant_globex.ledger (tenant_id text NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
    ${protect('tenant_globex.ledger')}
    CREATE TABLE tenant_globex.ledger_2026 PARTITION OF tenant_globex.ledger FOR VALUES FROM ('2026-01-01') TO ('2027-01-01') PARTITION BY LIST (tenant_id);
    ${protect('tenant_globex.ledger_2026')}
    CREATE TABLE tenant_globex.ledger_2026_g PARTITION OF tenant_globex.ledger_2026 FOR VALUES IN ('globex');
    -- a shared table with row level security owned by a tenant role
    CREATE TABLE public.tickets (tenant_id text NOT NULL, body text);
    ${protect('public.tickets')}
    ALTER TABLE public.tickets OWNER TO ${role('acme')};
    -- policies that admit rows when the tenant setting is unset or empty
    CREATE TABLE public.notes (tenant_id text NOT NULL, body text);
    ${protect('public.notes', `tenant_id = ${KEY} OR ${KEY} IS NULL`)}
    CREATE TABLE public.files (tenant_id text NOT NULL, body text);
    ${protect('public.files', `tenant_id = ${KEY} OR ${KEY} = ''`)}
    CREATE TABLE public.links (tenant_id text NOT NULL, body text);
    ${protect('public.links', `tenant_id = coalesce(nullif(${KEY}, ''), tenant_id)`)}

    -- legitimate neighbours: partitions that all have row level security, strict policies
    CREATE TABLE public.readings (tenant_id text NOT NULL, v int) PARTITION BY LIST (tenant_id);
    ${protect('public.readings')}
    CREATE TABLE public.readings_a PARTITION OF public.readings FOR VALUES IN ('acme');
    ${protect('public.readings_a')}
    CREATE TABLE public.readings_rest PARTITION OF public.readings DEFAULT;
    ${protect('public.readings_rest')}
    CREATE TABLE tenant_clean.ledger (tenant_id text NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
    ${protect('tenant_clean.ledger')}
    CREATE TABLE tenant_clean.ledger_2026 PARTITION OF tenant_clean.ledger FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    ${protect('tenant_clean.ledger_2026')}
    CREATE TABLE public.strict_a (tenant_id text NOT NULL);
    ${protect('public.strict_a', `tenant_id = ${KEY} AND tenant_id IS NOT NULL`)}
    CREATE TABLE public.strict_b (tenant_id text NOT NULL);
    ${protect('public.strict_b', `tenant_id = current_setting('tenantctl.tenant_key')`)}
    CREATE TABLE public.strict_c (tenant_id text NOT NULL);
    ${protect('public.strict_c', `(tenant_id = ${KEY}) OR (tenant_id = current_user)`)}
  `);
});

afterAll(async () => {
  await tc?.close();
  await db?.drop();
});

describe('verify rls: partitions, owners and unset settings', () => {
  it('reports each planted edge and nothing about the legitimate neighbours', async () => {
    const violations = await violationsFrom(db.url, ['--check', 'rls']);
    expect(violations.map((v) => [v.rule, v.tenant, v.object]).sort()).toEqual(
      [
        ['child-without-rls', null, 'public.metrics_b'],
        ['child-without-rls', 'globex', 'tenant_globex.ledger_2026_g'],
        ['tenant-owned', 'acme', 'public.tickets'],
        ['policy-unset', null, 'policy notes.tenant'],
        ['policy-unset', null, 'policy files.tenant'],
        ['policy-unset', null, 'policy links.tenant'],
      ].sort(),
    );
    expect(violations.every((v) => v.level === 'error')).toBe(true);
    const unset = violations.find((v) => v.object === 'policy notes.tenant')!;
    expect(unset.detail).toContain('admits rows when the tenant setting is unset or empty');
  });
});
