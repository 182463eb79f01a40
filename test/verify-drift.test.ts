import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, migrateDown, verify, type Tenantctl, type Violation } from '../src/index.js';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { violationsFrom } from './support/verify.js';

let db: TestDatabase;
let tc: Tenantctl;

beforeAll(async () => {
  db = await createTestDatabase();
  tc = await openOn(db.url);
  await createTenants(tc, { ids: ['acme', 'globex', 'initech', 'hooli', 'umbrella', 'wayne', 'stark', 'old', 'older', 'clean'] });
  // two tenants behind the head, at two versions: each has its own reference
  await migrateDown(tc, { tenants: ['old'], count: 2 });
  await migrateDown(tc, { tenants: ['older'], count: 5 });
  await db.pool.query(`
    ALTER TABLE tenant_acme.tasks DROP COLUMN assignee;                        -- missing column
    CREATE INDEX tasks_title_idx ON tenant_globex.tasks (title);               -- extra index (warn)
    ALTER TABLE tenant_initech.projects ALTER COLUMN name TYPE varchar(200);   -- changed type
    DROP TABLE tenant_hooli.invoices CASCADE;                                  -- missing table (and the view on it)
    CREATE FUNCTION tenant_umbrella.extra() RETURNS int LANGUAGE sql AS 'SELECT 1';   -- extra function (warn)
    CREATE OR REPLACE VIEW tenant_umbrella.customer_invoice_totals AS
      SELECT c.id AS customer_id, c.tenant_id, c.name, count(i.id) AS invoices, coalesce(sum(i.amount_cents), 0) AS total_cents
      FROM tenant_umbrella.customers c LEFT JOIN tenant_umbrella.invoices i ON i.customer_id = c.id WHERE i.status <> 'void'
      GROUP BY c.id, c.tenant_id, c.name;                                      -- changed view
    DROP TRIGGER tasks_updated_at ON tenant_wayne.tasks;                       -- missing trigger
    ALTER TABLE tenant_stark.invoices DROP CONSTRAINT invoices_amount_nonnegative;  -- missing constraint
  `);
});

afterAll(async () => {
  await tc?.close();
  await db?.drop();
});

const key = (v: Violation) => `${v.tenant} ${v.object} ${v.level}`;

describe('verify drift', () => {
  it('names missing, changed and extra objects per tenant against the migrations at its version', async () => {
    const doc = { violations: await violationsFrom(db.url, ['--check', 'drift']) };
    expect(doc.violations.every((v) => v.check === 'drift')).toBe(true);
    expect(doc.violations.map(key).sort()).toEqual(
      [
        'acme column tasks.assignee error',
        'globex index tasks.tasks_title_idx warn',
        'hooli table invoices error',
        'hooli view customer_invoice_totals error',
        'hooli sequence invoices_id_seq error',
        'initech column projects.name error',
        'stark constraint invoices.invoices_amount_nonnegative error',
        'umbrella function extra() warn',
        'umbrella view customer_invoice_totals error',
        'wayne trigger tasks.tasks_updated_at error',
      ].sort(),
    );
    const initech = doc.violations.find((v) => v.tenant === 'initech')!;
    expect(initech.detail).toContain('expected text not null; found character varying(200) not null');
    expect(doc.violations.find((v) => v.tenant === 'acme')!.detail).toBe(
      'missing: the migrations up to 1700000009000_invoice_amount_check create it',
    );
  });

  it('leaves nothing behind and builds one reference per version', async () => {
    const before = tc.stats.roundTrips;
    const r = await verify(tc, { checks: ['drift'], tenants: ['old', 'older', 'clean'] });
    expect(r.violations).toEqual([]);
    const left = await db.pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenantctl$verify%'`);
    expect(left.rows).toEqual([]);
    // three versions, three references; the same fleet at one version costs less
    const one = await verify(tc, { checks: ['drift'], tenants: ['clean'] });
    expect(r.checks[0]!.roundTrips).toBeGreaterThan(one.checks[0]!.roundTrips);
    expect(tc.stats.roundTrips).toBeGreaterThan(before);
  });

  it('extra objects are warnings: exit 0 by default, 1 with --fail-on warn', async () => {
    const cli = cliOn(db.url);
    expect((await cli(['verify', '--check', 'drift', '--tenant', 'globex'])).code).toBe(0);
    expect((await cli(['verify', '--check', 'drift', '--tenant', 'globex', '--fail-on', 'warn'])).code).toBe(1);
  });
});
