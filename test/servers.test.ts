import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliOn } from './support/cli.js';
import { twoServers, type TestDatabase } from './support/db.js';
import { scratchProject } from './support/migrations.js';
import { openOn } from './support/lib.js';
import { createTenants, migrateStatus } from '../src/index.js';

let home: TestDatabase;
let eu: TestDatabase;
twoServers((h, e) => ([home, eu] = [h, e]));

interface ListJson {
  tenants: { id: string; server: string; applied: number; pending: number }[];
  unreachable?: { id: string; server: string; error: string }[];
}
interface MigrateJson {
  tenants: { id: string; status: string; applied: string[]; error?: string }[];
  summary: { migrated: number; failed: number };
}

function project(servers: Record<string, string>) {
  const proj = scratchProject();
  writeFileSync(`${proj.dir}/tenantctl.config.json`, JSON.stringify({ servers }));
  return { proj, cli: cliOn(home.url, { cwd: proj.dir }) };
}

const schemas = async (db: TestDatabase) =>
  (await db.pool.query<{ n: string }>(`SELECT nspname AS n FROM pg_namespace WHERE nspname LIKE 'tenant\\_%' ORDER BY 1`)).rows.map(
    (r) => r.n,
  );

describe('a fleet over two servers', () => {
  it('puts tenants where asked, lists them with their server, and migrates both servers in one run', async () => {
    const { proj, cli } = project({ eu: '${TC_TEST_EU_URL}' });
    const env = { TC_TEST_EU_URL: eu.url };
    const run = (args: string[]) => cli(args, { env });
    expect((await run(['init'])).code).toBe(0);
    // init made the control schema and the shared schema on both servers.
    for (const db of [home, eu]) {
      const r = await db.pool.query(`SELECT to_regclass('tenantctl.tenants') AS t, to_regclass('public.plans') AS p`);
      expect(r.rows[0]).toEqual({ t: 'tenantctl.tenants', p: 'plans' });
    }
    expect((await run(['tenant', 'create', 'a1', 'a2'])).code).toBe(0);
    const made = await run(['tenant', 'create', 'b1', 'b2', '--server', 'eu', '--json']);
    expect(made.code, made.stderr).toBe(0);
    expect(made.json<{ tenants: { id: string; status: string; server: string }[] }>().tenants).toEqual([
      expect.objectContaining({ id: 'b1', status: 'created', server: 'eu' }),
      expect.objectContaining({ id: 'b2', status: 'created', server: 'eu' }),
    ]);
    expect(await schemas(home)).toEqual(['tenant_a1', 'tenant_a2']);
    expect(await schemas(eu)).toEqual(['tenant_b1', 'tenant_b2']);

    const list = (await run(['tenant', 'list', '--json'])).json<ListJson>();
    expect(list.tenants.map((t) => [t.id, t.server])).toEqual([
      ['a1', 'default'],
      ['a2', 'default'],
      ['b1', 'eu'],
      ['b2', 'eu'],
    ]);
    const human = await run(['tenant', 'list']);
    expect(human.stdout).toMatch(/b1\s.*\seu/);
    expect((await run(['tenant', 'show', 'b1', '--json'])).json<{ tenant: { server: string } }>().tenant.server).toBe('eu');

    // The same create again converges; the id on another server, or its key, is refused before anything is made.
    expect(
      (await run(['tenant', 'create', 'b1', '--server', 'eu', '--json'])).json<{ tenants: { status: string }[] }>().tenants[0]!.status,
    ).toBe('exists');
    const clash = await run(['tenant', 'create', 'b1']);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/tenant "b1" already exists/);
    const keyClash = await run(['tenant', 'create', 'c1', '--key', 'a1', '--server', 'eu']);
    expect(keyClash.code).toBe(2);
    expect(keyClash.stderr).toMatch(/already belongs to tenant "a1"/);
    const unknown = await run(['tenant', 'create', 'c1', '--server', 'nowhere']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no server named "nowhere"/);
    expect(await schemas(eu)).toEqual(['tenant_b1', 'tenant_b2']);

    // One pending migration: both servers' tenants get it in one run, each journal beside its schema.
    proj.add(
      '1800000000000_add_flag',
      '-- Up Migration\nALTER TABLE projects ADD COLUMN flag boolean NOT NULL DEFAULT false;\n-- Down Migration\nALTER TABLE projects DROP COLUMN flag;\n',
    );
    const status = (await run(['migrate', 'status', '--json'])).json<{ tenants: { id: string; server: string; pending: string[] }[] }>();
    expect(status.tenants.map((t) => t.pending.length)).toEqual([1, 1, 1, 1]);
    expect(status.tenants.find((t) => t.id === 'b2')!.server).toBe('eu');
    const m = await run(['migrate', '--json']);
    expect(m.code, m.stderr).toBe(0);
    expect(m.json<MigrateJson>().summary).toMatchObject({ migrated: 4, failed: 0 });
    for (const [db, id] of [
      [eu, 'b1'],
      [home, 'a1'],
    ] as const) {
      const col = await db.pool.query(`SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'flag'`, [
        `tenant_${id}`,
      ]);
      expect(col.rowCount).toBe(1);
      const j = await db.pool.query(`SELECT 1 FROM tenantctl.tenant_migrations WHERE tenant_id = $1 AND name = '1800000000000_add_flag'`, [
        id,
      ]);
      expect(j.rowCount).toBe(1);
    }
    const after = (await run(['tenant', 'list', '--json'])).json<ListJson>();
    expect(after.tenants.every((t) => t.pending === 0)).toBe(true);

    // down, named, on the other server.
    const down = await run(['migrate', 'down', '--tenant', 'b2', '--json']);
    expect(down.code, down.stdout).toBe(0);
    expect(
      (await eu.pool.query(`SELECT 1 FROM tenantctl.tenant_migrations WHERE tenant_id = 'b2' AND name = '1800000000000_add_flag'`))
        .rowCount,
    ).toBe(0);
  });

  it('placement "fewest-tenants" fills the emptier server; status costs the same queries for 2 tenants or 6', async () => {
    const proj = scratchProject();
    const config = { controlSchema: 'ctl_few', sharedSchema: 'few_shared', schemaPrefix: 'few_', servers: { eu: eu.url } };
    writeFileSync(`${proj.dir}/tenantctl.config.json`, JSON.stringify({ ...config, placement: 'fewest-tenants' }));
    const cli = cliOn(home.url, { cwd: proj.dir });
    for (const id of ['f1', 'f2', 'f3', 'f4']) expect((await cli(['tenant', 'create', id])).code).toBe(0);
    const list = (await cli(['tenant', 'list', '--json'])).json<ListJson>();
    expect(list.tenants.map((t) => t.server)).toEqual(['default', 'eu', 'default', 'eu']);

    const tc = await openOn(home.url, config);
    try {
      const trips = async () => {
        const before = tc.stats.roundTrips;
        await migrateStatus(tc);
        return tc.stats.roundTrips - before;
      };
      const few = await trips();
      await createTenants(tc, { ids: ['f5', 'f6'], server: 'eu' });
      await createTenants(tc, { ids: ['f7'] });
      expect((await migrateStatus(tc)).tenants).toHaveLength(7);
      expect(await trips()).toBe(few);
    } finally {
      await tc.close();
    }
  });

  it('killed between the server and the map, create --server leaves an invisible tenant that the same command adopts', async () => {
    const proj = scratchProject();
    writeFileSync(
      `${proj.dir}/tenantctl.config.json`,
      JSON.stringify({ controlSchema: 'ctl_half', sharedSchema: 'half_shared', schemaPrefix: 'half_', servers: { eu: eu.url } }),
    );
    const cli = cliOn(home.url, { cwd: proj.dir });
    expect((await cli(['tenant', 'create', 'k1', '--server', 'eu'])).code).toBe(0);
    // The state a kill after the server's commit and before the map's leaves: the tenant whole on eu, no placement.
    await home.pool.query(`DELETE FROM ctl_half.placements WHERE tenant_id = 'k1'`);
    expect((await cli(['tenant', 'list', '--json'])).json<ListJson>().tenants).toEqual([]);
    const again = await cli(['tenant', 'create', 'k1', '--server', 'eu', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json<{ tenants: { status: string }[] }>().tenants[0]!.status).toBe('exists');
    expect((await cli(['tenant', 'list', '--json'])).json<ListJson>().tenants.map((t) => [t.id, t.server])).toEqual([['k1', 'eu']]);
  });

  it('a server that cannot be reached fails its tenants (exit 3), not the run', async () => {
    const { proj, cli } = project({ eu: eu.url });
    writeFileSync(
      `${proj.dir}/tenantctl.config.json`,
      JSON.stringify({ controlSchema: 'ctl_down', sharedSchema: 'down_shared', schemaPrefix: 'down_', servers: { eu: eu.url } }),
    );
    const h1 = await cli(['tenant', 'create', 'h1']);
    expect(h1.code, h1.stderr).toBe(0);
    const x1 = await cli(['tenant', 'create', 'x1', '--server', 'eu']);
    expect(x1.code, x1.stderr).toBe(0);
    // The same server's name now points at a port where nothing listens.
    writeFileSync(
      `${proj.dir}/tenantctl.config.json`,
      JSON.stringify({
        controlSchema: 'ctl_down',
        sharedSchema: 'down_shared',
        schemaPrefix: 'down_',
        servers: { eu: 'postgresql://postgres@127.0.0.1:9/none' },
      }),
    );
    proj.add('1800000000001_more', 'ALTER TABLE projects ADD COLUMN more int;');
    const m = await cli(['migrate', '--json']);
    expect(m.code).toBe(3);
    const doc = m.json<MigrateJson>();
    expect(doc.tenants.find((t) => t.id === 'h1')).toMatchObject({ status: 'migrated' });
    expect(doc.tenants.find((t) => t.id === 'x1')).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/server "eu" cannot be reached/),
    });
    const list = await cli(['tenant', 'list', '--json']);
    expect(list.code).toBe(3);
    expect(list.json<ListJson>().unreachable).toEqual([expect.objectContaining({ id: 'x1', server: 'eu' })]);
  });
});
