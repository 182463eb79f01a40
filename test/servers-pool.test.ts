import { writeFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliOn } from './support/cli.js';
import { twoServers, type TestDatabase } from './support/db.js';
import { scratchProject } from './support/migrations.js';

// The home server is the test server; "eu" is the second test server, with its own template and pool.
let home: TestDatabase;
let eu: TestDatabase;
let cli: ReturnType<typeof cliOn>;
twoServers((h, e) => {
  home = h;
  eu = e;
});
beforeAll(async () => {
  const proj = scratchProject();
  writeFileSync(`${proj.dir}/tenantctl.config.json`, JSON.stringify({ servers: { eu: eu.url } }));
  cli = cliOn(home.url, { cwd: proj.dir });
  const init = await cli(['init']);
  expect(init.code, init.stderr).toBe(0);
}, 120_000);

const count = async (db: TestDatabase, sql: string) => (await db.pool.query<{ n: number }>(sql)).rows[0]!.n;

describe('instant create on another server', () => {
  it("tenant pool fill --server fills that server's pool from its own template; create --server takes its spares", async () => {
    const fill = await cli(['tenant', 'pool', 'fill', '2', '--server', 'eu', '--json']);
    expect(fill.code, fill.stderr).toBe(0);
    expect(fill.json<{ pool: { spares: number; atHead: number; captured: boolean } }>().pool).toMatchObject({
      spares: 2,
      atHead: 2,
      captured: true,
    });
    // The template and the spares are on "eu"; the home server has neither.
    expect(await count(eu, 'SELECT count(*)::int AS n FROM tenantctl.tenants WHERE pooled')).toBe(2);
    expect(await count(eu, 'SELECT count(*)::int AS n FROM tenantctl.templates')).toBe(1);
    expect(await count(home, 'SELECT count(*)::int AS n FROM tenantctl.tenants')).toBe(0);
    expect(await count(home, 'SELECT count(*)::int AS n FROM tenantctl.templates')).toBe(0);
    const status = await cli(['tenant', 'pool', 'status', '--server', 'eu', '--json']);
    expect(status.json<{ pool: { atHead: number } }>().pool.atHead).toBe(2);
    expect((await cli(['tenant', 'pool', 'status', '--json'])).json<{ pool: { spares: number } }>().pool.spares).toBe(0);

    const made = await cli(['tenant', 'create', 'p1', '--server', 'eu', '--json']);
    expect(made.code, made.stderr).toBe(0);
    expect(made.json<{ tenants: { id: string; method: string; server: string }[] }>().tenants).toEqual([
      expect.objectContaining({ id: 'p1', status: 'created', method: 'pool', server: 'eu' }),
    ]);
    expect(await count(eu, 'SELECT count(*)::int AS n FROM tenantctl.tenants WHERE pooled')).toBe(1);
    expect(await count(home, `SELECT count(*)::int AS n FROM tenantctl.placements WHERE tenant_id = 'p1' AND server = 'eu'`)).toBe(1);
    const used = await cli(['exec', '--tenant', 'p1', '-c', `INSERT INTO customers (name) VALUES ('first')`]);
    expect(used.code, used.stderr).toBe(0);
    expect(await count(eu, 'SELECT count(*)::int AS n FROM tenant_p1.customers')).toBe(1);

    const bad = await cli(['tenant', 'pool', 'fill', '1', '--server', 'nowhere']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no server named "nowhere"/);
  });
});
