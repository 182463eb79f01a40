import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliOn } from './support/cli.js';
import { twoServers, type TestDatabase } from './support/db.js';
import { scratchProject } from './support/migrations.js';

let home: TestDatabase;
let eu: TestDatabase;
twoServers((h, e) => ([home, eu] = [h, e]));

const schemas = async (db: TestDatabase) =>
  (await db.pool.query<{ n: string }>(`SELECT nspname AS n FROM pg_namespace WHERE nspname LIKE 'tenant\\_%' ORDER BY 1`)).rows.map(
    (r) => r.n,
  );
const rows = async (db: TestDatabase) =>
  (await db.pool.query<{ id: string; status: string }>(`SELECT id, status FROM tenantctl.tenants ORDER BY id`)).rows;

describe('relocate, then purge', () => {
  it('a tenant moved away and back leaves an archived copy on the old server that `tenant remove --purge` removes with it', async () => {
    const proj = scratchProject();
    writeFileSync(`${proj.dir}/tenantctl.config.json`, JSON.stringify({ servers: { eu: eu.url } }));
    const cli = cliOn(home.url, { cwd: proj.dir });
    expect((await cli(['tenant', 'create', 'rp1', 'rp2'])).code).toBe(0);
    expect((await cli(['exec', '--tenant', 'rp1', '-c', "INSERT INTO customers (name) VALUES ('Ada')"])).code).toBe(0);
    const away = await cli(['tenant', 'relocate', 'rp1', '--to', 'eu', '--json']);
    expect(away.code, away.stderr).toBe(0);
    expect(
      (await cli(['query', '--tenant', 'rp1', '--json', '-c', 'SELECT name FROM customers'])).json<{ rows: unknown[] }>().rows,
    ).toEqual([{ tenant: 'rp1', name: 'Ada' }]);
    const back = await cli(['tenant', 'relocate', 'rp1', '--to', 'default', '--json']);
    expect(back.code, back.stderr).toBe(0);
    // Live at home again (the move back replaced home's archived copy of the first move); eu keeps the second move's.
    expect(await schemas(home)).toEqual(['tenant_rp1', 'tenant_rp2']);
    expect(await schemas(eu)).toEqual(['tenant_rp1$archived']);
    expect((await cli(['tenant', 'list', '--json'])).json<{ tenants: { id: string; server: string }[] }>().tenants).toEqual([
      expect.objectContaining({ id: 'rp1', server: 'default' }),
      expect.objectContaining({ id: 'rp2', server: 'default' }),
    ]);
    const purge = await cli(['tenant', 'remove', 'rp1', '--purge', '--yes', '--json']);
    expect(purge.code, purge.stdout + purge.stderr).toBe(0);
    expect(await schemas(home)).toEqual(['tenant_rp2']);
    expect(await schemas(eu)).toEqual([]);
    expect(await rows(home)).toEqual([{ id: 'rp2', status: 'active' }]);
    expect(await rows(eu)).toEqual([]);
  });
});
