import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cliOn } from './support/cli.js';
import { twoServers, type TestDatabase } from './support/db.js';
import { scratchProject } from './support/migrations.js';

let home: TestDatabase;
let eu: TestDatabase;
twoServers((h, e) => ([home, eu] = [h, e]));

interface RelocateJson {
  tenant: string;
  from: string;
  to: string;
  mode: string;
  tables: { table: string; rows: number; checksum: string }[];
  rows: number;
  bytes: number;
  seconds: number;
  archivedSource: string | null;
  converged?: boolean;
}

function project(extra: Record<string, unknown> = {}) {
  const proj = scratchProject();
  writeFileSync(`${proj.dir}/tenantctl.config.json`, JSON.stringify({ servers: { eu: '${TC_TEST_EU_URL}' }, ...extra }));
  const cli = cliOn(home.url, { cwd: proj.dir, env: { TC_TEST_EU_URL: eu.url } });
  return { proj, cli };
}

const TABLES = ['customers', 'invoices', 'projects', 'tasks'];

/** Per table: count and a digest of every row, in id order. */
async function digest(db: TestDatabase, schema: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of TABLES) {
    const r = await db.pool.query<{ s: string }>(
      `SELECT count(*) || ':' || coalesce(md5(string_agg(to_jsonb(t)::text, ',' ORDER BY t.id)), '') AS s FROM "${schema}"."${t}" t`,
    );
    out[t] = r.rows[0]!.s;
  }
  return out;
}

async function fill(db: TestDatabase, schema: string, key: string, n: number): Promise<void> {
  await db.pool.query(`
    INSERT INTO "${schema}".customers (tenant_id, name, email) SELECT '${key}', 'c' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'c' || g || E'@x\\ty' END FROM generate_series(1, ${n}) g;
    INSERT INTO "${schema}".projects (tenant_id, customer_id, name) SELECT '${key}', c.id, E'p\\n' || c.id FROM "${schema}".customers c;
    INSERT INTO "${schema}".tasks (tenant_id, project_id, title, due_date) SELECT '${key}', p.id, 't' || g, date '2026-01-01' + g FROM "${schema}".projects p, generate_series(1, 3) g;
    INSERT INTO "${schema}".invoices (tenant_id, customer_id, amount_cents, issued_at) SELECT '${key}', c.id, c.id * 7, timestamptz '2026-03-01 12:00+02' FROM "${schema}".customers c;`);
}

const schemas = async (db: TestDatabase, like: string) =>
  (await db.pool.query<{ n: string }>(`SELECT nspname AS n FROM pg_namespace WHERE nspname LIKE $1 ORDER BY 1`, [like])).rows.map(
    (r) => r.n,
  );

const registry = async (db: TestDatabase, id: string) =>
  (await db.pool.query<{ status: string; schema_name: string }>(`SELECT status, schema_name FROM tenantctl.tenants WHERE id = $1`, [id]))
    .rows[0];

const placement = async (id: string) =>
  (await home.pool.query<{ server: string }>(`SELECT server FROM tenantctl.placements WHERE tenant_id = $1`, [id])).rows[0]?.server ??
  'default';

describe('tenant relocate', () => {
  it('moves a tenant there and back with every row, sequences past the source, the source archived; commands follow it', async () => {
    const { proj, cli } = project();
    expect((await cli(['init'])).code).toBe(0);
    expect((await cli(['tenant', 'create', 'r1', '--name', 'Relocated', '--set', 'tier=gold'])).code).toBe(0);
    await fill(home, 'tenant_r1', 'r1', 200);
    const before = await digest(home, 'tenant_r1');
    const lastInvoice = (await home.pool.query<{ n: string }>(`SELECT max(number)::text AS n FROM tenant_r1.invoices`)).rows[0]!.n;

    const out = await cli(['tenant', 'relocate', 'r1', '--to', 'eu', '--json']);
    expect(out.code, out.stderr).toBe(0);
    const doc = out.json<RelocateJson>();
    expect(doc).toMatchObject({
      tenant: 'r1',
      from: 'default',
      to: 'eu',
      mode: 'copy',
      rows: 200 + 200 + 600 + 200,
      archivedSource: 'tenant_r1$archived',
    });
    expect(doc.tables.map((t) => [t.table, t.rows])).toEqual([
      ['customers', 200],
      ['invoices', 200],
      ['projects', 200],
      ['tasks', 600],
    ]);
    expect(doc.bytes).toBeGreaterThan(0);
    // auto mode said why it copied (this source has wal_level=replica).
    expect(out.stderr).toMatch(/copy mode \(writes wait for the copy\)/);

    // Every row on eu; the home copy archived: renamed, the tenant role without access, the row archived.
    expect(await digest(eu, 'tenant_r1')).toEqual(before);
    expect(await placement('r1')).toBe('eu');
    expect(await schemas(home, 'tenant\\_r1%')).toEqual(['tenant_r1$archived']);
    expect(await registry(home, 'r1')).toEqual({ status: 'archived', schema_name: 'tenant_r1$archived' });
    expect(await registry(eu, 'r1')).toEqual({ status: 'active', schema_name: 'tenant_r1' });
    const homeRole = (await home.pool.query<{ r: string }>(`SELECT role_name AS r FROM tenantctl.tenants WHERE id = 'r1'`)).rows[0]!.r;
    const access = await home.pool.query<{ u: boolean }>(`SELECT has_schema_privilege($1, 'tenant_r1$archived', 'USAGE') AS u`, [homeRole]);
    expect(access.rows[0]!.u).toBe(false);
    // A write into the archive fails loudly.
    await expect(home.pool.query(`INSERT INTO "tenant_r1$archived".customers (tenant_id, name) VALUES ('r1', 'late')`)).rejects.toThrow(
      /tenant "r1" moved to server "eu"/,
    );
    // The journal, name and config came along.
    const show = (await cli(['tenant', 'show', 'r1', '--json'])).json<{
      tenant: { server: string; name: string; config: object; pending: number };
    }>();
    expect(show.tenant).toMatchObject({ server: 'eu', name: 'Relocated', config: { tier: 'gold' }, pending: 0 });
    const list = (await cli(['tenant', 'list', '--json'])).json<{ tenants: { id: string; server: string; status: string }[] }>();
    expect(list.tenants).toEqual([expect.objectContaining({ id: 'r1', server: 'eu', status: 'active' })]);

    // Sequences past the source's: new rows on eu get fresh ids and invoice numbers.
    const fresh = await eu.pool.query<{ id: string; number: string }>(
      `INSERT INTO tenant_r1.invoices (tenant_id, customer_id, amount_cents) VALUES ('r1', 1, 5) RETURNING id::text, number::text`,
    );
    expect(Number(fresh.rows[0]!.id)).toBe(201);
    expect(Number(fresh.rows[0]!.number)).toBe(Number(lastInvoice) + 1);
    const cust = await eu.pool.query<{ id: string }>(
      `INSERT INTO tenant_r1.customers (tenant_id, name) VALUES ('r1', 'new') RETURNING id::text`,
    );
    expect(cust.rows[0]!.id).toBe('201');

    // migrate acts on the target.
    // A type of the tenant's own: that table travels as COPY text and is checksummed by its text.
    proj.add(
      '1800000000000_add_flag',
      "CREATE TYPE mood AS ENUM ('calm', 'busy'); ALTER TABLE projects ADD COLUMN flag boolean NOT NULL DEFAULT false, ADD COLUMN mood mood;",
    );
    const m = await cli(['migrate', '--json']);
    expect(m.code, m.stdout).toBe(0);
    const col = await eu.pool.query(`SELECT 1 FROM information_schema.columns WHERE table_schema = 'tenant_r1' AND column_name = 'flag'`);
    expect(col.rowCount).toBe(1);

    await eu.pool.query(
      `UPDATE tenant_r1.projects SET mood = CASE WHEN id % 2 = 0 THEN 'busy' ELSE 'calm' END::tenant_r1.mood WHERE id % 3 <> 0`,
    );
    // The same command again: already there, nothing to finish (exit 2, nothing changed).
    const again = await cli(['tenant', 'relocate', 'r1', '--to', 'eu']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already on server "eu"/);

    // And back: the archive left on home is cleared first, eu's copy is archived in turn.
    const onEu = await digest(eu, 'tenant_r1');
    const back = await cli(['tenant', 'relocate', 'r1', '--to', 'default', '--json']);
    expect(back.code, back.stderr).toBe(0);
    expect(back.json<RelocateJson>()).toMatchObject({ from: 'eu', to: 'default', archivedSource: 'tenant_r1$archived' });
    expect(await digest(home, 'tenant_r1')).toEqual(onEu);
    expect(await placement('r1')).toBe('default');
    expect(await registry(home, 'r1')).toEqual({ status: 'active', schema_name: 'tenant_r1' });
    expect(await registry(eu, 'r1')).toEqual({ status: 'archived', schema_name: 'tenant_r1$archived' });
    expect(await schemas(eu, 'tenant\\_r1%')).toEqual(['tenant_r1$archived']);
    // The migration that ran on eu came back in the journal and the structure.
    expect((await cli(['migrate', 'status', '--json'])).json<{ tenants: { pending: string[] }[] }>().tenants[0]!.pending).toEqual([]);
    const flag = await home.pool.query(
      `SELECT 1 FROM information_schema.columns WHERE table_schema = 'tenant_r1' AND column_name = 'flag'`,
    );
    expect(flag.rowCount).toBe(1);
    // exec acts on it where it lives now.
    const exec = await cli(['exec', '--tenant', 'r1', '-c', "INSERT INTO customers (name) VALUES ('after') RETURNING id", '--json']);
    expect(exec.code, exec.stdout).toBe(0);
    expect((await home.pool.query(`SELECT 1 FROM tenant_r1.customers WHERE name = 'after' AND id = 202`)).rowCount).toBe(1);

    // --purge-source: nothing of the tenant is left on the source.
    const purge = await cli(['tenant', 'relocate', 'r1', '--to', 'eu', '--purge-source', '--json']);
    expect(purge.code, purge.stderr).toBe(0);
    expect(purge.json<RelocateJson>().archivedSource).toBeNull();
    expect(await schemas(home, 'tenant\\_r1%')).toEqual([]);
    expect(await registry(home, 'r1')).toBeUndefined();
    expect((await home.pool.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [homeRole])).rowCount).toBe(0);
    expect(await schemas(eu, 'tenant\\_r1%')).toEqual(['tenant_r1']);
    expect((await eu.pool.query(`SELECT 1 FROM tenant_r1.customers WHERE name = 'after'`)).rowCount).toBe(1);

    // The operations log on home records each move, with where the source copy went.
    const ops = await home.pool.query<{ detail: Record<string, unknown> }>(
      `SELECT detail FROM tenantctl.operations WHERE operation = 'relocate' AND tenant_id = 'r1' ORDER BY id`,
    );
    expect(ops.rows.map((r) => [r.detail.from, r.detail.to, r.detail.archivedSchema])).toEqual([
      ['default', 'eu', 'tenant_r1$archived'],
      ['eu', 'default', 'tenant_r1$archived'],
      ['default', 'eu', null],
    ]);
  });

  it('refuses bad input with one line and exit 2, changing nothing', async () => {
    const { proj, cli } = project({ controlSchema: 'ctl_bad', sharedSchema: 'bad_shared', schemaPrefix: 'bad_' });
    expect((await cli(['tenant', 'create', 'b1', 'b2'])).code).toBe(0);
    const cases: [string[], RegExp][] = [
      [['tenant', 'relocate', 'b1', '--to', 'nowhere'], /no server named "nowhere"/],
      [['tenant', 'relocate', 'b1', '--to', 'default'], /already on server "default"/],
      [['tenant', 'relocate', 'Bad!', '--to', 'eu'], /invalid tenant id/],
      [['tenant', 'relocate', 'zz', '--to', 'eu'], /unknown tenant "zz"/],
      [['tenant', 'relocate', 'b1', '--to', 'eu', '--mode', 'sideways'], /--mode must be auto, copy or logical/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    // An archived tenant stays where it is.
    expect((await cli(['tenant', 'remove', 'b2', '--yes'])).code).toBe(0);
    const archived = await cli(['tenant', 'relocate', 'b2', '--to', 'eu']);
    expect(archived.code).toBe(2);
    expect(archived.stderr).toMatch(/tenant "b2" is archived/);
    // A table without a replica identity cannot be moved by logical replication: --mode logical names it.
    proj.add('1800000000001_log', 'CREATE TABLE audit_log (at timestamptz NOT NULL DEFAULT now(), line text);');
    expect((await cli(['migrate'])).code).toBe(0);
    const logical = await cli(['tenant', 'relocate', 'b1', '--to', 'eu', '--mode', 'logical']);
    expect(logical.code).toBe(2);
    expect(logical.stderr).toMatch(/audit_log has no replica identity/);
    // Nothing changed on either side.
    expect(await schemas(eu, 'bad\\_%')).toEqual([]);
    expect((await home.pool.query(`SELECT count(*)::int AS n FROM ctl_bad.placements`)).rows[0]).toEqual({ n: 0 });
    expect(await schemas(home, 'bad\\_b%')).toEqual(['bad_b1', 'bad_b2$archived']);
  });
});
