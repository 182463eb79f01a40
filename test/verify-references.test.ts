import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, type Tenantctl, type Violation } from '../src/index.js';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { violationsFrom } from './support/verify.js';

let db: TestDatabase;
let tc: Tenantctl;

beforeAll(async () => {
  db = await createTestDatabase();
  tc = await openOn(db.url);
  await createTenants(tc, { ids: ['acme', 'globex', 'initech', 'hooli', 'umbrella', 'clean'] });
  await db.pool.query(`
    -- a foreign key into another tenant
    ALTER TABLE tenant_acme.invoices ADD CONSTRAINT invoices_foreign_customer FOREIGN KEY (customer_id) REFERENCES tenant_globex.customers (id);
    -- a view and a materialized view over another tenant
    CREATE VIEW tenant_globex.all_customers AS SELECT * FROM tenant_globex.customers UNION ALL SELECT * FROM tenant_initech.customers;
    CREATE MATERIALIZED VIEW tenant_globex.invoice_stats AS SELECT count(*) AS n FROM tenant_hooli.invoices;
    -- a function whose body reads another tenant (plpgsql records no dependency), SECURITY DEFINER without search_path
    CREATE FUNCTION tenant_initech.peek() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN RETURN (SELECT count(*) FROM tenant_acme.customers); END $$;
    -- a trigger that runs another tenant's function
    CREATE TRIGGER foreign_stamp BEFORE UPDATE ON tenant_hooli.tasks FOR EACH ROW EXECUTE FUNCTION tenant_acme.set_updated_at();
    -- a column default on another tenant's sequence (the classic clone bug)
    ALTER TABLE tenant_umbrella.invoices ALTER COLUMN number SET DEFAULT nextval('tenant_acme.invoice_number_seq');
    -- a policy that reads another tenant's table
    CREATE POLICY sneaky ON tenant_umbrella.customers USING (EXISTS (SELECT 1 FROM tenant_globex.customers g WHERE g.id = customers.id));
    -- an index on an expression and an index with a predicate that call another tenant's function
    CREATE FUNCTION tenant_globex.norm(text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower($1)';
    CREATE INDEX foreign_norm ON tenant_hooli.customers (tenant_globex.norm(name));
    CREATE INDEX foreign_partial ON tenant_initech.customers (id) WHERE tenant_globex.norm(name) <> '';
    -- a function that only names another schema in its settings
    CREATE FUNCTION tenant_umbrella.pathy() RETURNS int LANGUAGE sql SET search_path = tenant_hooli AS 'SELECT 1';
  `);
});

afterAll(async () => {
  await tc?.close();
  await db?.drop();
});

describe('verify references', () => {
  it('reports every kind of cross-tenant reference with its tenant and object, and exits 1', async () => {
    const doc = { violations: await violationsFrom(db.url, ['--check', 'references']) };
    const found = doc.violations.map(({ check, tenant, object }) => ({ check, tenant, object }));
    const expected = [
      ['acme', 'foreign key invoices.invoices_foreign_customer'],
      ['globex', 'view all_customers'],
      ['globex', 'materialized view invoice_stats'],
      ['initech', 'function peek()'],
      ['hooli', 'trigger tasks.foreign_stamp'],
      ['umbrella', 'default of invoices.number'],
      ['umbrella', 'policy customers.sneaky'],
      ['umbrella', 'function pathy()'],
      ['hooli', 'index foreign_norm'],
      ['initech', 'index foreign_partial'],
    ].map(([tenant, object]) => ({ check: 'references', tenant, object }));
    expect(found).toEqual(expect.arrayContaining(expected));
    // peek() twice: it reads tenant_acme, and it is SECURITY DEFINER without a search_path
    const peek = doc.violations.filter((v) => v.object === 'function peek()');
    expect(peek.map((v) => v.detail)).toEqual(
      expect.arrayContaining([expect.stringContaining('names schema tenant_acme'), expect.stringContaining('SECURITY DEFINER')]),
    );
    expect(doc.violations.find((v) => v.object === 'default of invoices.number')!.detail).toContain(
      'sequence invoice_number_seq in schema tenant_acme',
    );
    expect(doc.violations.some((v) => v.tenant === 'clean')).toBe(false);
    // one finding per edge: no duplicates
    const keys = doc.violations.map((v) => `${v.tenant} ${v.object} ${v.detail}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('narrows to the named tenants', async () => {
    const res = await cliOn(db.url)(['verify', '--check', 'references', '--tenant', 'acme', '--json']);
    expect(res.code).toBe(1);
    expect(res.json<{ violations: Violation[] }>().violations.map((v) => v.tenant)).toEqual(['acme']);
    const clean = await cliOn(db.url)(['verify', '--check', 'references', '--tenant', 'clean']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('ok: no violations at or above error');
  });
});
