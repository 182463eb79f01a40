import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, verify, type Tenantctl } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { violationsFrom } from './support/verify.js';

let db: TestDatabase;
let tc: Tenantctl;

/** A shared table with every tenant's rows behind row level security, as the rls check wants it. */
const RLS_TABLE = `
  CREATE TABLE public.notes (id serial PRIMARY KEY, tenant_id text NOT NULL DEFAULT current_setting('tenantctl.tenant_key', true), body text);
  ALTER TABLE public.notes ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
  CREATE POLICY tenant ON public.notes USING (tenant_id = current_setting('tenantctl.tenant_key', true));`;

beforeAll(async () => {
  db = await createTestDatabase();
  tc = await openOn(db.url);
  await createTenants(tc, { ids: ['acme', 'globex', 'initech', 'hooli', 'clean'] });
  await db.pool.query(`${RLS_TABLE}
    -- legitimate neighbours: none of these may be reported
    CREATE VIEW public.my_notes WITH (security_invoker = true) AS SELECT id, body FROM public.notes;
    CREATE VIEW public.plan_names AS SELECT code, name FROM public.plans;
    CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.name := trim(NEW.name); RETURN NEW; END $$;
    CREATE TRIGGER plans_touch BEFORE UPDATE ON public.plans FOR EACH ROW EXECUTE FUNCTION public.touch();
    CREATE FUNCTION public.admin_only() RETURNS bigint LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS 'SELECT count(*) FROM public.notes';
    REVOKE EXECUTE ON FUNCTION public.admin_only() FROM PUBLIC;
    CREATE FUNCTION public.tenant_id_of(text) RETURNS text LANGUAGE sql AS 'SELECT $1 || ''tenant_id''';
    -- a tenant's own table with row level security, and a view of it in its schema: that tenant's rows only
    ALTER TABLE tenant_clean.customers ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant ON tenant_clean.customers USING (tenant_id = current_setting('tenantctl.tenant_key', true));
    CREATE VIEW tenant_clean.customer_names AS SELECT id, name FROM tenant_clean.customers;

    -- a SECURITY DEFINER function in the shared schema that reads a tenant (and anyone may execute it)
    CREATE FUNCTION public.peek_acme() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
      AS $$ BEGIN RETURN (SELECT count(*) FROM tenant_acme.customers); END $$;
    -- a shared view over a tenant's table, and a view over that view
    CREATE VIEW public.globex_invoices AS SELECT * FROM tenant_globex.invoices;
    CREATE VIEW public.globex_invoice_count AS SELECT count(*) AS n FROM public.globex_invoices;
    -- a trigger on a shared table that copies rows into a tenant's schema
    CREATE FUNCTION public.copy_plan() RETURNS trigger LANGUAGE plpgsql
      AS $$ BEGIN INSERT INTO tenant_initech.customers (name) VALUES (NEW.name); RETURN NEW; END $$;
    CREATE TRIGGER plans_copy AFTER INSERT ON public.plans FOR EACH ROW EXECUTE FUNCTION public.copy_plan();
    -- a shared function that builds tenant schema names
    CREATE FUNCTION public.count_any(t text) RETURNS bigint LANGUAGE plpgsql AS $$
      DECLARE n bigint; BEGIN EXECUTE format('SELECT count(*) FROM %I.customers', 'tenant_' || t) INTO n; RETURN n; END $$;
    -- a SECURITY DEFINER function over the row level security table: its owner (a superuser) bypasses the policy
    CREATE FUNCTION public.all_notes() RETURNS SETOF text LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS 'SELECT body FROM public.notes';
    -- views that read the row level security table with their owner's rights
    CREATE VIEW public.notes_all AS SELECT * FROM public.notes;
    CREATE MATERIALIZED VIEW public.notes_snapshot AS SELECT * FROM public.notes;
    CREATE VIEW tenant_hooli.shared_notes AS SELECT * FROM public.notes;
    -- columns of another tenant's types: a row type, an array of an enum, an array of a row type
    CREATE TYPE tenant_acme.mood AS ENUM ('happy', 'sad');
    ALTER TABLE tenant_hooli.tasks ADD COLUMN acme_customer tenant_acme.customers;
    ALTER TABLE tenant_hooli.projects ADD COLUMN moods tenant_acme.mood[];
    ALTER TABLE tenant_globex.projects ADD COLUMN others tenant_initech.customers[];
  `);
});

afterAll(async () => {
  await tc?.close();
  await db?.drop();
});

describe('verify references: the shared schema as a bridge, and types', () => {
  it('reports each planted bridge and type reference, and nothing about the legitimate neighbours', async () => {
    const violations = await violationsFrom(db.url, ['--check', 'references']);
    const found = violations.map((v) => [v.rule, v.tenant, v.object]).sort();
    expect(found).toEqual(
      [
        ['cross-tenant', 'globex', 'column projects.others'],
        ['cross-tenant', 'hooli', 'column projects.moods'],
        ['cross-tenant', 'hooli', 'column tasks.acme_customer'],
        ['owner-view', 'hooli', 'view shared_notes'],
        ['owner-view', null, 'materialized view notes_snapshot'],
        ['owner-view', null, 'view notes_all'],
        ['shared-bridge', 'acme', 'function peek_acme()'],
        ['shared-bridge', 'globex', 'view globex_invoice_count'],
        ['shared-bridge', 'globex', 'view globex_invoices'],
        ['shared-bridge', 'initech', 'function copy_plan()'],
        ['shared-bridge', 'initech', 'trigger plans.plans_copy'],
        ['shared-definer', null, 'function all_notes()'],
        ['shared-definer', null, 'function peek_acme()'],
        ['shared-dynamic', null, 'function count_any(t text)'],
      ].sort(),
    );
    for (const v of violations) {
      expect(v.level).toBe('error');
      expect(v.remediation.length).toBeGreaterThan(10);
    }
  });

  it('--tenant narrows bridges to the tenants they reach', async () => {
    const r = await verify(tc, { checks: ['references'], tenants: ['clean'] });
    expect(r.violations.filter((v) => v.tenant !== null)).toEqual([]);
  });
});
