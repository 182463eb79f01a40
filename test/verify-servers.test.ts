import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliOn } from './support/cli.js';
import { createSecondDatabase, createTestDatabase, type TestDatabase } from './support/db.js';
import { scratchProject } from './support/migrations.js';

// Each test has its own pair of databases: tenant roles are per database (tc<oid>_<id>), and one
// project's roles would be another's orphans.
const made: TestDatabase[] = [];
afterAll(async () => {
  await Promise.all(made.map((d) => d.drop()));
});

interface VerifyJson {
  ok: boolean;
  tenants: { id: string; server: string; status: string; ok: boolean; violations: number; error?: string }[];
  checks: { name: string; ok: boolean; violations: number; roundTrips: number; servers?: { server: string; roundTrips: number }[] }[];
  violations: { check: string; rule: string; server: string; tenant: string | null; object: string; detail: string; level: string }[];
  servers: { server: string; tenants: number; checked: boolean; error?: string }[];
  unreachable: { id: string; server: string; error: string }[];
}

/** A project of its own (control schema, shared schema, prefix) on both servers, eu named by an environment variable. */
async function fleet(name: string) {
  const [home, eu] = await Promise.all([createTestDatabase(), createSecondDatabase()]);
  made.push(home, eu);
  const proj = scratchProject();
  writeFileSync(
    join(proj.dir, 'tenantctl.config.json'),
    JSON.stringify({
      controlSchema: `ctl_${name}`,
      sharedSchema: `${name}_shared`,
      schemaPrefix: `${name}_`,
      servers: { eu: '${TC_TEST_EU_URL}' },
    }),
  );
  const cli = cliOn(home.url, { cwd: proj.dir });
  let euUrl = eu.url;
  const run = (args: string[]) => cli(args, { env: { TC_TEST_EU_URL: euUrl } });
  return {
    home,
    eu,
    proj,
    run,
    pointEuAt(url: string) {
      euUrl = url;
    },
    async verify(args: string[] = []) {
      const r = await run(['verify', '--json', ...args]);
      return { code: r.code, stderr: r.stderr, doc: r.json<VerifyJson>() };
    },
  };
}

const found = (doc: VerifyJson) => doc.violations.map((v) => [v.check, v.rule, v.server, v.tenant]);

describe('verify over a fleet on two servers', () => {
  it('a clean fleet: no finding on either server, one query per catalog check per server; every check catches its hole on the second server', async () => {
    const f = await fleet('vs');
    const { home, eu } = f;
    expect((await f.run(['init'])).code).toBe(0);
    expect((await f.run(['tenant', 'create', 'a1', 'a2'])).code).toBe(0);
    const made = await f.run(['tenant', 'create', 'b1', 'b2', '--server', 'eu']);
    expect(made.code, made.stderr).toBe(0);
    // Rows in both servers' tenants, each with its own key.
    for (const [db, ids] of [
      [home, ['a1', 'a2']],
      [eu, ['b1', 'b2']],
    ] as const) {
      for (const id of ids)
        await db.pool.query(`INSERT INTO vs_${id}.customers (tenant_id, name, email) VALUES ($1, 'c', 'c@example.com')`, [id]);
    }

    const clean = await f.verify(['--fail-on', 'warn']);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.doc.violations).toEqual([]);
    expect(clean.doc.ok).toBe(true);
    expect(clean.doc.tenants.map((t) => [t.id, t.server, t.ok])).toEqual([
      ['a1', 'default', true],
      ['a2', 'default', true],
      ['b1', 'eu', true],
      ['b2', 'eu', true],
    ]);
    expect(clean.doc.servers).toEqual([
      { server: 'default', tenants: 2, checked: true },
      { server: 'eu', tenants: 2, checked: true },
    ]);
    expect(clean.doc.unreachable).toEqual([]);
    // The catalog checks cost the same on each server: one query (drift: its digests, replay and reads) per check per server.
    for (const name of ['references', 'privileges', 'rls', 'registry']) {
      const c = clean.doc.checks.find((k) => k.name === name)!;
      const per = c.servers!.map((s) => [s.server, s.roundTrips]);
      expect(per.map(([s]) => s)).toEqual(['default', 'eu']);
      expect(per[0]![1], name).toBe(per[1]![1]);
      expect(c.roundTrips).toBe((per[0]![1] as number) * 2);
    }

    // One hole per check on eu's tenants (and its shared schema), none on home.
    await eu.pool.query(`
      INSERT INTO vs_b1.customers (tenant_id, name, email) VALUES ('b2', 'stray', 's@example.com');
      CREATE VIEW vs_b1.peek AS SELECT * FROM vs_b2.customers;
      GRANT SELECT ON vs_b2.invoices TO PUBLIC;
      CREATE TABLE vs_shared.notes (tenant_id text NOT NULL, body text);
      DROP INDEX vs_b2.projects_customer_id_idx;
      CREATE SCHEMA vs_ghost;
    `);
    const dirty = await f.verify();
    expect(dirty.code, dirty.stderr).toBe(1);
    expect(found(dirty.doc)).toEqual(
      expect.arrayContaining([
        ['ownership', 'wrong-owner', 'eu', 'b1'],
        ['references', 'cross-tenant', 'eu', 'b1'],
        ['privileges', 'grant', 'eu', 'b2'],
        ['rls', 'not-enabled', 'eu', null],
        ['drift', 'missing', 'eu', 'b2'],
        ['drift', 'extra', 'eu', 'b1'],
        ['registry', 'orphan', 'eu', 'ghost'],
      ]),
    );
    expect(dirty.doc.violations.filter((v) => v.server !== 'eu')).toEqual([]);
    expect(dirty.doc.tenants.filter((t) => !t.ok).map((t) => t.id)).toEqual(['b1', 'b2']);
    // Human output names the server of each finding.
    const human = await f.run(['verify', '--check', 'ownership']);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/verified 4 tenants on 2 servers, 1 check/);
    expect(human.stdout).toMatch(/tenant b1 \(server eu\)\n {4}error customers: .*'b2'/);
    // JUnit carries the server in each failure.
    const junit = join(f.proj.dir, 'verify.xml');
    expect((await f.run(['verify', '--check', 'rls', '--junit', junit])).code).toBe(1);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toContain('<testcase classname="tenantctl.verify.rls" name="(server eu)" time="0">');
    expect(xml).toMatch(/check: rls\nserver: eu\ntenant: \(server eu\)\nobject: vs_shared\.notes/);
    // --tenant narrows to the named tenants' servers: home is not checked.
    const one = await f.verify(['--tenant', 'b1', '--check', 'ownership,references']);
    expect(one.code).toBe(1);
    expect(one.doc.servers.map((s) => [s.server, s.checked])).toEqual([
      ['default', false],
      ['eu', true],
    ]);
    expect(one.doc.tenants.map((t) => t.id)).toEqual(['b1']);
    expect(found(one.doc)).toEqual([
      ['ownership', 'wrong-owner', 'eu', 'b1'],
      ['references', 'cross-tenant', 'eu', 'b1'],
    ]);
  });

  it('the registry against the map: placements with no row, on an unknown server or with another key; rows the map does not point at', async () => {
    const f = await fleet('vm');
    const { home } = f;
    expect((await f.run(['init'])).code).toBe(0);
    expect((await f.run(['tenant', 'create', 'h1', 'h2'])).code).toBe(0);
    expect((await f.run(['tenant', 'create', 'e1', 'e2', 'c1', '--server', 'eu'])).code).toBe(0);
    const before = await f.verify(['--fail-on', 'warn']);
    expect(before.code, JSON.stringify(before.doc.violations)).toBe(0);
    // c1: as if `tenant create --server eu` was killed after eu committed, before the map recorded it.
    await home.pool.query(`DELETE FROM ctl_vm.placements WHERE tenant_id = 'c1'`);
    // h2: as if a relocation to eu was cut off after the map moved: its home row is still active.
    // (h2 has no row on eu either: the map is wrong.)
    await home.pool.query(`INSERT INTO ctl_vm.placements (tenant_id, server, tenant_key) VALUES ('h2', 'eu', 'h2')`);
    // e2: an archived copy a finished relocation left on home: not a tenant, not reported, its schema no orphan.
    await home.pool.query(
      `INSERT INTO ctl_vm.tenants (id, schema_name, role_name, key, status, archived_at) VALUES ('e2', 'vm_e2$archived', NULL, 'e2', 'archived', now());
       CREATE SCHEMA "vm_e2$archived"`,
    );
    // far: the map names a server the config does not list; e1: the map's key is not the row's.
    await home.pool.query(`INSERT INTO ctl_vm.placements (tenant_id, server, tenant_key) VALUES ('far', 'mars', 'far')`);
    await home.pool.query(`UPDATE ctl_vm.placements SET tenant_key = 'other' WHERE tenant_id = 'e1'`);

    const r = await f.verify();
    expect(r.code, r.stderr).toBe(1);
    const registry = r.doc.violations.filter((v) => v.check === 'registry');
    expect(registry.map((v) => [v.rule, v.server, v.tenant, v.level])).toEqual(
      expect.arrayContaining([
        ['unplaced', 'eu', 'c1', 'warn'],
        ['unplaced', 'default', 'h2', 'warn'],
        ['placement-missing', 'eu', 'h2', 'error'],
        ['placement-server', 'default', 'far', 'error'],
        ['placement-key', 'eu', 'e1', 'warn'],
      ]),
    );
    expect(registry).toHaveLength(5);
    expect(registry.find((v) => v.rule === 'unplaced' && v.tenant === 'c1')!.detail).toMatch(
      /the placements map does not put tenant c1 here .*interrupted `tenant create --server`/,
    );
    expect(registry.find((v) => v.rule === 'placement-server')!.detail).toMatch(
      /server "mars", which the config's "servers" does not list/,
    );
    // Nothing else is reported about the leftovers (their schemas and roles are no orphans) or the tenants.
    expect(r.doc.violations.filter((v) => v.check !== 'registry')).toEqual([]);
    expect(r.doc.tenants.map((t) => [t.id, t.server, t.status, t.ok])).toEqual([
      ['e1', 'eu', 'active', true],
      ['e2', 'eu', 'active', true],
      ['far', 'mars', 'missing', false],
      ['h1', 'default', 'active', true],
      ['h2', 'eu', 'missing', false],
    ]);
    // Naming them: a tenant only the map knows is found (exit 1), a leftover is no tenant (exit 2, nothing ran).
    const lost = await f.verify(['--tenant', 'h2']);
    expect(lost.code).toBe(1);
    expect(found(lost.doc).sort()).toEqual([
      ['registry', 'placement-missing', 'eu', 'h2'],
      ['registry', 'unplaced', 'default', 'h2'],
    ]);
    const leftover = await f.run(['verify', '--tenant', 'c1']);
    expect(leftover.code).toBe(2);
    expect(leftover.stderr).toMatch(/unknown tenant "c1"/);
  });

  it('a server that cannot be reached: its tenants are reported (exit 3), the others checked', async () => {
    const f = await fleet('vd');
    const { home } = f;
    expect((await f.run(['init'])).code).toBe(0);
    expect((await f.run(['tenant', 'create', 'h1'])).code).toBe(0);
    expect((await f.run(['tenant', 'create', 'x1', 'x2', '--server', 'eu'])).code).toBe(0);
    f.pointEuAt('postgresql://postgres@127.0.0.1:9/none');
    const r = await f.verify();
    expect(r.code, r.stderr).toBe(3);
    expect(r.doc.ok).toBe(false);
    expect(r.doc.unreachable.map((u) => [u.id, u.server])).toEqual([
      ['x1', 'eu'],
      ['x2', 'eu'],
    ]);
    expect(r.doc.unreachable[0]!.error).toMatch(/server "eu" cannot be reached/);
    expect(r.doc.tenants.map((t) => [t.id, t.status, t.ok])).toEqual([
      ['h1', 'active', true],
      ['x1', 'unreachable', false],
      ['x2', 'unreachable', false],
    ]);
    expect(r.doc.servers).toEqual([
      { server: 'default', tenants: 1, checked: true },
      { server: 'eu', tenants: 0, checked: false, error: expect.stringMatching(/server "eu" cannot be reached/) },
    ]);
    expect(r.stderr).toMatch(/error: server "eu" cannot be reached/);
    // The home server's tenants were checked: a hole there makes it exit 1, and JUnit says who was not verified.
    await home.pool.query(`GRANT SELECT ON vd_h1.invoices TO PUBLIC`);
    const junit = join(f.proj.dir, 'v.xml');
    const dirty = await f.run(['verify', '--check', 'privileges', '--junit', junit]);
    expect(dirty.code).toBe(1);
    expect(dirty.stdout).toMatch(/NOT VERIFIED: server "eu" cannot be reached: .*: tenants x1, x2 not verified/);
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(
      /<testcase classname="tenantctl\.verify\.privileges" name="x1" time="0">\n {6}<error type="unreachable" message="server &quot;eu&quot; cannot be reached/,
    );
    expect(xml).toContain('<testsuite name="privileges" tests="3" failures="1" errors="2"');
  });

  it('a configured server without the control schema: an info note, nothing checked there, exit 0', async () => {
    const spare = await createTestDatabase();
    made.push(spare);
    const f = await fleet('vi');
    expect((await f.run(['init'])).code).toBe(0);
    expect((await f.run(['tenant', 'create', 'h1'])).code).toBe(0);
    expect((await f.run(['tenant', 'create', 'x1', '--server', 'eu'])).code).toBe(0);
    // A server added to the config after init: nobody has initialised it yet.
    writeFileSync(
      join(f.proj.dir, 'tenantctl.config.json'),
      JSON.stringify({
        controlSchema: 'ctl_vi',
        sharedSchema: 'vi_shared',
        schemaPrefix: 'vi_',
        servers: { eu: '${TC_TEST_EU_URL}', spare: spare.url },
      }),
    );
    const r = await f.verify();
    expect(r.code, r.stderr).toBe(0);
    expect(r.doc.servers).toEqual([
      { server: 'default', tenants: 1, checked: true },
      { server: 'eu', tenants: 1, checked: true },
      { server: 'spare', tenants: 0, checked: false },
    ]);
    expect(found(r.doc)).toEqual([['registry', 'not-initialised', 'spare', null]]);
    expect(r.doc.violations[0]!.level).toBe('info');
  });
});
