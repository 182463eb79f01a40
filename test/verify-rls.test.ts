import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, type Tenantctl } from '../src/index.js';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { violationsFrom } from './support/verify.js';

let db: TestDatabase;
let tc: Tenantctl;

const CONFINED = `tenant_id = current_setting('tenantctl.tenant_key', true)`;

beforeAll(async () => {
  db = await createTestDatabase();
  tc = await openOn(db.url);
  await createTenants(tc, { ids: ['acme', 'globex'] });
  await db.pool.query(`
    -- no row level security at all
    CREATE TABLE public.audit_log (id int, tenant_id text);
    -- enabled but not forced (warn)
    CREATE TABLE public.usage (id int, tenant_id text);
    ALTER TABLE public.usage ENABLE ROW LEVEL SECURITY;
    CREATE POLICY mine ON public.usage USING (${CONFINED});
    -- enabled and forced, with a permissive USING (true)
    CREATE TABLE public.events (id int, tenant_id text);
    ALTER TABLE public.events ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
    CREATE POLICY everyone ON public.events FOR SELECT USING (true);
    -- a WITH CHECK that admits any tenant
    CREATE TABLE public.messages (id int, tenant_id text);
    ALTER TABLE public.messages ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
    CREATE POLICY read_mine ON public.messages FOR SELECT USING (${CONFINED});
    CREATE POLICY write_any ON public.messages FOR INSERT WITH CHECK (tenant_id IS NOT NULL);
    -- done right: no finding
    CREATE TABLE public.settings (id int, tenant_id text);
    ALTER TABLE public.settings ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
    CREATE POLICY mine ON public.settings USING (${CONFINED}) WITH CHECK (${CONFINED});
    CREATE POLICY only_open ON public.settings AS RESTRICTIVE USING (true);
  `);
});

afterAll(async () => {
  await tc?.close();
  await db?.drop();
});

describe('verify rls', () => {
  it('reports shared tables with the ownership column and no, unforced or leaky row level security', async () => {
    const doc = { violations: await violationsFrom(db.url, ['--check', 'rls']) };
    expect(doc.violations.map(({ check, tenant, object, level }) => ({ check, tenant, object, level }))).toEqual([
      { check: 'rls', tenant: null, object: 'public.audit_log', level: 'error' },
      { check: 'rls', tenant: null, object: 'policy events.everyone', level: 'error' },
      { check: 'rls', tenant: null, object: 'policy messages.write_any', level: 'error' },
      { check: 'rls', tenant: null, object: 'public.usage', level: 'warn' },
    ]);
    expect(doc.violations[1]!.detail).toBe('USING (true) does not confine rows to the current tenant');
    expect(doc.violations[2]!.detail).toContain('WITH CHECK ((tenant_id IS NOT NULL)) admits rows of any tenant');
  });

  it('fails on warnings only with --fail-on warn', async () => {
    await db.pool.query('DROP TABLE public.audit_log, public.events, public.messages');
    const lenient = await cliOn(db.url)(['verify', '--check', 'rls']);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toContain('public.usage: row level security is enabled but not forced');
    const strict = await cliOn(db.url)(['verify', '--check', 'rls', '--fail-on', 'warn', '--json']);
    expect(strict.code).toBe(1);
    expect(strict.json<{ checks: { name: string; ok: boolean }[] }>().checks).toEqual([
      expect.objectContaining({ name: 'rls', ok: false }),
    ]);
  });
});
