import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolFor, withTenant, type Tenantctl } from '../src/index.js';
import { cliOn } from './support/cli.js';
import { createSecondDatabase, createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { scratchProject } from './support/migrations.js';
import { scratchDir } from './support/scratch.js';

let home: TestDatabase;
let eu: TestDatabase;
let cli: ReturnType<typeof cliOn>;
let dir: string;
beforeAll(async () => {
  [home, eu] = await Promise.all([createTestDatabase(), createSecondDatabase()]);
  const proj = scratchProject();
  dir = proj.dir;
  writeFileSync(`${dir}/tenantctl.config.json`, JSON.stringify({ servers: { eu: eu.url } }));
  cli = cliOn(home.url, { cwd: dir });
  expect((await cli(['init'])).code).toBe(0);
  const a = await cli(['tenant', 'create', 'a1', 'a2']);
  expect(a.code, a.stderr).toBe(0);
  const b = await cli(['tenant', 'create', 'b1', 'b2', 'b4', '--server', 'eu']);
  expect(b.code, b.stderr).toBe(0);
}, 120_000);
afterAll(async () => {
  await Promise.all([home.drop(), eu.drop()]);
});

const ok = (r: { code: number | null; stdout: string; stderr: string }) => expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
const one = async <T extends Record<string, unknown>>(db: TestDatabase, sql: string, values: unknown[] = []) =>
  (await db.pool.query<T>(sql, values)).rows[0];
const registry = (db: TestDatabase, id: string) =>
  one<{ status: string; schema: string; name: string | null }>(
    db,
    'SELECT status, schema_name AS schema, name FROM tenantctl.tenants WHERE id = $1',
    [id],
  );
const placement = (id: string) =>
  one<{ server: string; key: string }>(home, 'SELECT server, tenant_key AS key FROM tenantctl.placements WHERE tenant_id = $1', [id]);
const customers = async (db: TestDatabase, schema: string) =>
  Number((await one<{ n: string }>(db, `SELECT count(*) AS n FROM "${schema}".customers`))!.n);

describe('every command routes by the placements map', () => {
  it('exec on one tenant and on all of them runs each on its own server', async () => {
    for (const [id, db] of [
      ['a1', home],
      ['b1', eu],
    ] as const) {
      const r = await cli(['exec', '--tenant', id, '-c', `INSERT INTO customers (name) VALUES ('from ${id}')`, '--json']);
      ok(r);
      expect(await customers(db, `tenant_${id}`)).toBe(1);
    }
    // Nothing landed on the other server.
    expect(await one(home, `SELECT to_regclass('tenant_b1.customers') AS t`)).toEqual({ t: null });
    const all = await cli(['exec', '--all', '-c', 'SELECT current_database() AS db, count(*)::int AS n FROM customers', '--json']);
    ok(all);
    const doc = all.json<{
      tenants: { id: string; status: string; server?: string; results: { rows: { db: string; n: number }[] }[] }[];
    }>();
    expect(doc.tenants.map((t) => [t.id, t.status, t.server ?? 'default', t.results[0]!.rows[0]!.db])).toEqual([
      ['a1', 'done', 'default', home.name],
      ['a2', 'done', 'default', home.name],
      ['b1', 'done', 'eu', eu.name],
      ['b2', 'done', 'eu', eu.name],
      ['b4', 'done', 'eu', eu.name],
    ]);
  });

  it('query merges the servers in tenant order', async () => {
    const r = await cli(['query', '-c', 'SELECT current_database() AS db', '--json']);
    ok(r);
    expect(r.json<{ rows: { tenant: string; db: string }[] }>().rows).toEqual([
      { tenant: 'a1', db: home.name },
      { tenant: 'a2', db: home.name },
      { tenant: 'b1', db: eu.name },
      { tenant: 'b2', db: eu.name },
      { tenant: 'b4', db: eu.name },
    ]);
    const csv = await cli(['query', '-c', 'SELECT 1 AS one', '--tenant', 'b2,a2', '--format', 'csv']);
    ok(csv);
    expect(csv.stdout.trim().split('\n').sort()).toEqual(['a2,1', 'b2,1', 'tenant,one']);
  });

  it('update, remove (archive) and restore change the tenant on its server', async () => {
    ok(await cli(['tenant', 'update', 'b2', '--name', 'Bee two', '--set', 'tier=gold']));
    expect(await registry(eu, 'b2')).toMatchObject({ name: 'Bee two' });
    expect(await one(eu, `SELECT operation FROM tenantctl.operations WHERE tenant_id = 'b2' ORDER BY id DESC LIMIT 1`)).toEqual({
      operation: 'update',
    });
    const shown = await cli(['tenant', 'show', 'b2', '--json']);
    expect(shown.json<{ tenant: { name: string; config: Record<string, string> } }>().tenant).toMatchObject({
      name: 'Bee two',
      config: { tier: 'gold' },
    });

    const archived = await cli(['tenant', 'remove', 'b2', '--yes', '--json']);
    ok(archived);
    expect(archived.json<{ tenants: { id: string; status: string; server: string }[] }>().tenants).toEqual([
      expect.objectContaining({ id: 'b2', status: 'archived', server: 'eu' }),
    ]);
    expect(await registry(eu, 'b2')).toMatchObject({ status: 'archived', schema: 'tenant_b2$archived' });
    expect(await one(eu, `SELECT to_regnamespace('"tenant_b2$archived"') IS NOT NULL AS there`)).toEqual({ there: true });
    ok(await cli(['tenant', 'restore', 'b2']));
    expect(await registry(eu, 'b2')).toMatchObject({ status: 'active', schema: 'tenant_b2' });
    expect(await placement('b2')).toMatchObject({ server: 'eu' });
  });

  it('remove --purge of a tenant on another server drops it there, then its placement; a rerun between converges', async () => {
    // Another run holds the tenant's lock on the home server: the purge on "eu" commits, the placement stays.
    const holder = new pg.Client({ connectionString: home.url });
    await holder.connect();
    await holder.query(`SELECT pg_advisory_lock(hashtext('tenantctl:tenantctl'), hashtext('b4'))`);
    const between = await cli(['tenant', 'remove', 'b4', '--purge', '--yes', '--json']);
    await holder.end();
    expect(between.code).toBe(3);
    expect(between.json<{ tenants: { status: string; reason: string }[] }>().tenants[0]).toMatchObject({
      status: 'skipped',
      reason: 'locked',
    });
    expect(await registry(eu, 'b4')).toBeUndefined();
    expect(await placement('b4')).toMatchObject({ server: 'eu' });
    // Between the two, the tenant is gone: not listed as a tenant anywhere, and the same command finishes the job.
    const again = await cli(['tenant', 'remove', 'b4', '--purge', '--yes', '--json']);
    ok(again);
    expect(again.json<{ tenants: { status: string }[] }>().tenants[0]).toMatchObject({ status: 'gone' });
    expect(await placement('b4')).toBeUndefined();
    const third = await cli(['tenant', 'remove', 'b4', '--purge', '--yes', '--json']);
    ok(third);
    expect(third.json<{ tenants: { status: string }[] }>().tenants[0]).toMatchObject({ status: 'gone' });
    expect(await one(eu, `SELECT to_regnamespace('tenant_b4') AS s`)).toEqual({ s: null });
  });

  it('clone makes the new tenant on the source server; copy and move work within one server and refuse across', async () => {
    const clone = await cli(['tenant', 'clone', 'b1', 'b3', '--json']);
    ok(clone);
    expect(clone.json<{ status: string; server: string }>()).toMatchObject({ status: 'cloned', server: 'eu' });
    expect(await registry(eu, 'b3')).toMatchObject({ status: 'active' });
    expect(await placement('b3')).toMatchObject({ server: 'eu', key: 'b3' });
    expect(await customers(eu, 'tenant_b3')).toBe(1);
    // Killed after the server's commit and before the map's: the same clone adopts what it made.
    await home.pool.query(`DELETE FROM tenantctl.placements WHERE tenant_id = 'b3'`);
    const again = await cli(['tenant', 'clone', 'b1', 'b3', '--json']);
    ok(again);
    expect(again.json<{ status: string; adopted: boolean; rows: number }>()).toMatchObject({ status: 'cloned', adopted: true, rows: 1 });
    expect(await placement('b3')).toMatchObject({ server: 'eu', key: 'b3' });
    // An id that is taken anywhere in the fleet is refused, wherever the source is.
    const taken = await cli(['tenant', 'clone', 'b1', 'a2']);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toMatch(/tenant "a2" already exists/);

    const copy = await cli(['copy', '--from', 'b1', '--to', 'b3', '--remap-keys', '--json']);
    ok(copy);
    expect(await customers(eu, 'tenant_b3')).toBe(2);

    const before = [await customers(home, 'tenant_a1'), await customers(eu, 'tenant_b1')];
    for (const verb of ['copy', 'move']) {
      const across = await cli([verb, '--from', 'a1', '--to', 'b1']);
      expect(across.code).toBe(2);
      expect(across.stderr).toContain(
        `tenants "a1" (server default) and "b1" (server eu) are on different servers; ${verb} works within one server; move a whole tenant with \`tenantctl tenant relocate b1 --to default\``,
      );
    }
    expect([await customers(home, 'tenant_a1'), await customers(eu, 'tenant_b1')]).toEqual(before);
    expect(
      await one(eu, `SELECT count(*)::int AS n FROM tenantctl.operations WHERE operation IN ('copy', 'move') AND tenant_id = 'b1'`),
    ).toEqual({
      n: 1,
    });
  });

  it('export from one server, import onto another with --server', async () => {
    const out = join(scratchDir('routing'), 'b1');
    ok(await cli(['tenant', 'export', 'b1', '--out', out]));
    const imported = await cli(['tenant', 'import', out, '--as', 'c1', '--server', 'eu', '--json']);
    ok(imported);
    expect(imported.json<{ tenant: string; server: string; rows: number }>()).toMatchObject({ tenant: 'c1', server: 'eu', rows: 1 });
    expect(await registry(eu, 'c1')).toMatchObject({ status: 'active' });
    expect(await placement('c1')).toMatchObject({ server: 'eu', key: 'c1' });
    // Killed after the server's commit and before the map's: the tenant whole on eu, no placement; the same import adopts it.
    await home.pool.query(`DELETE FROM tenantctl.placements WHERE tenant_id = 'c1'`);
    const other = join(scratchDir('routing'), 'a1');
    ok(await cli(['tenant', 'export', 'a1', '--out', other]));
    const notThat = await cli(['tenant', 'import', other, '--as', 'c1', '--server', 'eu']);
    expect(notThat.code).toBe(2);
    expect(notThat.stderr).toMatch(/tenant "c1" already exists/);
    const again = await cli(['tenant', 'import', out, '--as', 'c1', '--server', 'eu', '--json']);
    ok(again);
    expect(again.json<{ tenant: string; server: string; adopted: boolean; rows: number }>()).toMatchObject({
      tenant: 'c1',
      server: 'eu',
      adopted: true,
      rows: 1,
    });
    expect(await placement('c1')).toMatchObject({ server: 'eu', key: 'c1' });
    ok(await cli(['tenant', 'import', out, '--as', 'c2']));
    expect(await registry(home, 'c2')).toMatchObject({ status: 'active' });
    expect(await customers(home, 'tenant_c2')).toBe(1);
    const clash = await cli(['tenant', 'import', out, '--as', 'a1', '--server', 'eu']);
    expect(clash.code).toBe(2);
    expect(await registry(eu, 'a1')).toBeUndefined();
    const unknown = await cli(['tenant', 'import', out, '--as', 'c3', '--server', 'nowhere']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no server named "nowhere"/);
  });

  it('tenant list --server lists one server', async () => {
    const eus = await cli(['tenant', 'list', '--server', 'eu', '--json']);
    ok(eus);
    expect(eus.json<{ tenants: { id: string }[] }>().tenants.map((t) => t.id)).toEqual(['b1', 'b2', 'b3', 'c1']);
    const homes = await cli(['tenant', 'list', '--server', 'default', '--json']);
    expect(homes.json<{ tenants: { id: string }[] }>().tenants.map((t) => t.id)).toEqual(['a1', 'a2', 'c2']);
    for (const bad of ['nowhere', 'Bad Name']) {
      const r = await cli(['tenant', 'list', '--server', bad]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('withTenant given the tenantctl handle', () => {
  let tc: Tenantctl;
  beforeAll(async () => {
    tc = await openOn(home.url, { servers: { eu: eu.url } });
  });
  afterAll(async () => {
    await tc.close();
  });
  const where = (id: string) =>
    withTenant(tc, id, async (client) => {
      const r = await client.query<{ db: string; id: string; path: string }>(
        `SELECT current_database() AS db, current_setting('tenantctl.tenant_id') AS id, current_setting('search_path') AS path`,
      );
      return r.rows[0]!;
    });

  it('runs on the server of each tenant, and leaves every connection clean', async () => {
    expect(await where('a1')).toMatchObject({ db: home.name, id: 'a1', path: 'tenant_a1, public, pg_temp' });
    expect(await where('b1')).toMatchObject({ db: eu.name, id: 'b1', path: 'tenant_b1, public, pg_temp' });
    await withTenant(tc, 'b1', (c) => c.query(`INSERT INTO customers (name) VALUES ('through the handle')`));
    expect(await customers(eu, 'tenant_b1')).toBe(2);
    await expect(withTenant(tc, 'nobody', async () => 1)).rejects.toThrow(/no active tenant "nobody"/);
    // A failing fn rolls back on the tenant's server.
    await expect(
      withTenant(tc, 'b1', async (c) => {
        await c.query(`INSERT INTO customers (name) VALUES ('rolled back')`);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await customers(eu, 'tenant_b1')).toBe(2);
    // The map is read once per tenant and handle: a second call costs what withTenant on a pool costs.
    const trips = async (id: string) => {
      const before = tc.stats.roundTrips;
      await withTenant(tc, id, (c) => c.query('SELECT 1'));
      return tc.stats.roundTrips - before;
    };
    const first = await trips('b2');
    const second = await trips('b2');
    expect([first, second]).toEqual([second + 1, 3]);
    const euPool = await poolFor(tc, 'b1');
    expect(euPool).not.toBe(tc.pool);
    expect(await poolFor(tc, 'a1')).toBe(tc.pool);
    // Every connection the handle holds on "eu" is back, idle, outside any transaction.
    expect(euPool.totalCount).toBe(euPool.idleCount);
    const busy = await eu.pool.query(
      `SELECT state FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'`,
    );
    expect(busy.rows).toEqual([]);
  });

  it('many at once over both servers: each transaction sees its own tenant, every connection goes back clean', async () => {
    const expected: Record<string, string> = { a1: home.name, b1: eu.name, b2: eu.name, c1: eu.name, c2: home.name };
    const ids = Object.keys(expected);
    const mistakes: string[] = [];
    await Promise.all(
      Array.from({ length: 150 }, async (_, i) => {
        const id = ids[i % ids.length]!;
        const seen = await where(id);
        if (seen.db !== expected[id] || seen.id !== id || !seen.path.startsWith(`tenant_${id},`))
          mistakes.push(`${id}: ${JSON.stringify(seen)}`);
      }),
    );
    expect(mistakes).toEqual([]);
    for (const pool of [tc.pool, await poolFor(tc, 'b1')]) {
      expect(pool.totalCount).toBe(pool.idleCount);
      // What a connection of the handle's pools carries afterwards: the login user, no tenant settings.
      const after = await pool.query<{ user: string; key: string | null }>(
        `SELECT current_user AS user, nullif(current_setting('tenantctl.tenant_key', true), '') AS key`,
      );
      expect(after.rows[0]).toEqual({ user: 'postgres', key: null });
    }
  });

  it('follows a tenant that moved to another server meanwhile', async () => {
    expect(await where('a2')).toMatchObject({ db: home.name });
    // A relocation by hand: the same tenant made on "eu", the map flipped, the home copy archived.
    const onEu = cliOn(eu.url, { cwd: scratchProject().dir });
    ok(await onEu(['tenant', 'create', 'a2']));
    await home.pool.query(`INSERT INTO tenantctl.placements (tenant_id, server, tenant_key) VALUES ('a2', 'eu', 'a2')`);
    await home.pool.query(`ALTER SCHEMA tenant_a2 RENAME TO "tenant_a2$archived"`);
    await home.pool.query(
      `UPDATE tenantctl.tenants SET status = 'archived', schema_name = 'tenant_a2$archived', archived_at = now() WHERE id = 'a2'`,
    );
    await home.pool.query(`INSERT INTO tenantctl.operations (actor, operation, tenant_id, detail) VALUES ('test', 'relocate', 'a2', $1)`, [
      JSON.stringify({ from: 'default', to: 'eu', archivedSchema: 'tenant_a2$archived' }),
    ]);
    // The handle cached "default" for a2; it finds a2 gone there, reads the map again and follows it.
    const before = tc.stats.roundTrips;
    expect(await where('a2')).toMatchObject({ db: eu.name, id: 'a2' });
    // The refused BEGIN on the old server (and its rollback with the reset), the map, then the usual three.
    expect(tc.stats.roundTrips - before).toBe(6);
    expect(await where('a2')).toMatchObject({ db: eu.name, id: 'a2' });

    // Purging it purges the archived copy the relocation left on the home server too.
    const purge = await cli(['tenant', 'remove', 'a2', '--purge', '--yes', '--json']);
    ok(purge);
    expect(
      purge.json<{ tenants: { status: string; server: string; copies: { server: string; status: string }[] }[] }>().tenants[0],
    ).toMatchObject({
      status: 'purged',
      server: 'eu',
      copies: [{ server: 'default', schema: 'tenant_a2$archived', status: 'purged' }],
    });
    expect(await registry(home, 'a2')).toBeUndefined();
    expect(await registry(eu, 'a2')).toBeUndefined();
    expect(await placement('a2')).toBeUndefined();
    expect(await one(home, `SELECT to_regnamespace('"tenant_a2$archived"') AS s`)).toEqual({ s: null });
    expect((await cli(['tenant', 'remove', 'a2', '--purge', '--yes'])).code).toBe(0);
  });
});

describe('a server that cannot be reached', () => {
  it('fails its tenants with exit 3 while the others run', async () => {
    const proj = scratchProject();
    writeFileSync(`${proj.dir}/tenantctl.config.json`, JSON.stringify({ servers: { eu: 'postgresql://postgres@127.0.0.1:9/none' } }));
    const down = cliOn(home.url, { cwd: proj.dir });
    const r = await down(['exec', '--all', '-c', `UPDATE customers SET email = 'seen' WHERE email IS NULL`, '--json']);
    expect(r.code, r.stderr).toBe(3);
    const doc = r.json<{ tenants: { id: string; status: string; reason?: string; error?: string }[] }>();
    expect(doc.tenants.find((t) => t.id === 'a1')).toMatchObject({ status: 'done' });
    expect(doc.tenants.find((t) => t.id === 'b1')).toMatchObject({
      status: 'failed',
      reason: 'unreachable',
      error: expect.stringMatching(/server "eu" cannot be reached/),
    });
    expect(await one(home, `SELECT count(*)::int AS n FROM tenant_a1.customers WHERE email = 'seen'`)).toEqual({ n: 1 });
    const q = await down(['query', '-c', 'SELECT 1 AS one', '--json']);
    expect(q.code).toBe(3);
    expect(q.json<{ rows: { tenant: string }[] }>().rows.map((x) => x.tenant)).toEqual(['a1', 'c2']);
    // Commands on one tenant of that server: exit 3, nothing changed.
    for (const args of [
      ['tenant', 'update', 'b1', '--name', 'x'],
      ['tenant', 'remove', 'b1', '--yes'],
    ]) {
      const r1 = await down(args);
      expect(r1.code, args.join(' ')).toBe(3);
      expect(`${r1.stdout}${r1.stderr}`).toMatch(/server "eu" cannot be reached/);
    }
    expect(await registry(eu, 'b1')).toMatchObject({ status: 'active', name: null });
    const one1 = await down(['exec', '--tenant', 'b1', '-c', 'SELECT 1']);
    expect(one1.code).toBe(3);
    expect(one1.stderr).toMatch(/server "eu" cannot be reached/);
  });
});
