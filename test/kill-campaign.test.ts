import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { scratchProject } from './support/migrations.js';

// The fault campaign's shape, kept cheap: kill -9 of the CLI at a random point of
// create, migrate, move and purge (seeded: TC_KILL_SEED reproduces a run), the
// catalog's invariants checked after each kill, then the same command again,
// which must finish the job.

const SEED = Number(process.env.TC_KILL_SEED ?? 20261201);
const ROUNDS = 2;

/** mulberry32: a small seeded generator, so a failing campaign can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let db: TestDatabase;
let project: ReturnType<typeof scratchProject>;
let cli: ReturnType<typeof cliOn>;
const rand = random(SEED);
const TABLES = ['customers', 'projects', 'tasks', 'invoices'];

beforeAll(async () => {
  db = await createTestDatabase();
  project = scratchProject();
  cli = cliOn(db.url, { cwd: project.dir });
  const r = await cli(['tenant', 'create', 'src', 'dst', ...fleet('m', 6)]);
  expect(r.code, r.stderr).toBe(0);
  await db.pool.query(`
    INSERT INTO tenant_src.customers (tenant_id, name) SELECT 'src', 'c' || g FROM generate_series(1, 3000) g;
    INSERT INTO tenant_src.projects (tenant_id, customer_id, name) SELECT 'src', c.id, 'p' || c.id || '-' || g FROM tenant_src.customers c, generate_series(1, 2) g;
    INSERT INTO tenant_src.tasks (tenant_id, project_id, title) SELECT 'src', p.id, 't' || g FROM tenant_src.projects p, generate_series(1, 2) g;
    INSERT INTO tenant_src.invoices (tenant_id, customer_id, amount_cents) SELECT 'src', c.id, 100 FROM tenant_src.customers c;
    ANALYZE;`);
});
afterAll(async () => {
  await db?.drop();
});

function fleet(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
}

/**
 * Starts the CLI and kills it with SIGKILL at a random point of its work: when
 * the server has been seen running the `atStatement`-th distinct statement of
 * its sessions (polled; a run that ends sooner is left to end). Then waits
 * until the server has ended its sessions.
 */
async function killAtRandom(args: string[], statements: number): Promise<{ seen: number; finished: boolean }> {
  const atStatement = 1 + Math.floor(rand() * statements);
  const child = spawn(process.execPath, [BIN, '--database-url', db.url, ...args], { cwd: project.dir, stdio: 'ignore' });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.on('exit', () => ((exited = true), resolve())));
  const activity = async () =>
    (
      await db.pool.query<{ pid: number; started: string; state: string }>(
        `SELECT pid, query_start::text AS started, state FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tenantctl'`,
      )
    ).rows;
  const seen = new Set<string>();
  const deadline = Date.now() + 30_000;
  while (!exited && seen.size < atStatement && Date.now() < deadline) {
    for (const a of await activity()) if (a.started) seen.add(`${a.pid} ${a.started}`);
  }
  const finished = exited;
  child.kill('SIGKILL');
  await exit;
  while ((await activity()).length > 0 && Date.now() < deadline) await pause(10);
  expect(await activity(), 'the killed run left sessions behind').toEqual([]);
  return { seen: seen.size, finished };
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The migration files, in the order they apply. */
function files(): string[] {
  return readdirSync(project.tenant)
    .map((f) => f.replace(/\.(js|ts|sql)$/, ''))
    .sort();
}

/**
 * What must hold whatever point a run was killed at: registry, schemas and
 * roles agree one to one; each tenant's journal is a prefix of the migration
 * files, and what the journal says ran is what the schema holds; no lock or
 * session is left.
 */
async function checkInvariants(where: string): Promise<void> {
  const q = async <T extends Record<string, unknown>>(sql: string, values: unknown[] = []) => (await db.pool.query<T>(sql, values)).rows;
  const tenants = await q<{ id: string; schema: string; role: string | null; status: string }>(
    `SELECT id, schema_name AS schema, role_name AS role, status FROM tenantctl.tenants ORDER BY id`,
  );
  const schemas = (await q<{ n: string }>(`SELECT nspname AS n FROM pg_namespace WHERE nspname LIKE 'tenant\\_%' ORDER BY 1`)).map(
    (r) => r.n,
  );
  expect(schemas, `${where}: tenant schemas = registered schemas`).toEqual(tenants.map((t) => t.schema).sort());
  expect(new Set(tenants.map((t) => t.status)), `${where}: statuses`).toEqual(tenants.length ? new Set(['active']) : new Set());
  const roles = (
    await q<{ r: string }>(
      `SELECT rolname AS r FROM pg_roles WHERE rolname LIKE 'tc' || (SELECT oid FROM pg_database WHERE datname = current_database()) || '\\_%' AND rolname NOT LIKE '%\\_\\_shared' ORDER BY 1`,
    )
  ).map((r) => r.r);
  expect(roles, `${where}: tenant roles = registered roles`).toEqual(
    tenants
      .map((t) => t.role)
      .filter((r) => r !== null)
      .sort(),
  );
  const all = files();
  const journals = await q<{ id: string; names: string[] }>(
    `SELECT t.id, coalesce(array_agg(m.name ORDER BY m.name) FILTER (WHERE m.name IS NOT NULL), '{}') AS names
     FROM tenantctl.tenants t LEFT JOIN tenantctl.tenant_migrations m ON m.tenant_id = t.id GROUP BY t.id ORDER BY t.id`,
  );
  const columns = await q<{ schema: string; cols: string[] }>(
    `SELECT table_schema AS schema, array_agg(column_name::text ORDER BY column_name) AS cols FROM information_schema.columns
     WHERE table_name = 'customers' AND column_name LIKE 'note\\_%' AND table_schema LIKE 'tenant\\_%' GROUP BY 1`,
  );
  for (const j of journals) {
    expect(j.names, `${where}: ${j.id}'s journal is a prefix of the files`).toEqual(all.slice(0, j.names.length));
    expect(j.names.length, `${where}: ${j.id} was created at the head of its day`).toBeGreaterThanOrEqual(9);
    const schema = tenants.find((t) => t.id === j.id)!.schema;
    const journaled = j.names.filter((n) => /_note_\d+$/.test(n)).map((n) => n.replace(/^.*_(note_\d+)$/, '$1'));
    expect(columns.find((c) => c.schema === schema)?.cols ?? [], `${where}: ${j.id}'s columns are what its journal says`).toEqual(
      journaled.sort(),
    );
  }
  expect(
    await q(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    ),
  ).toEqual([]);
}

/** Per table of a tenant: count and digest of its rows without the ownership column. */
async function rows(id: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of TABLES) {
    const r = await db.pool.query<{ s: string }>(
      `SELECT count(*) || ':' || coalesce(md5(string_agg((to_jsonb(t) - 'tenant_id')::text, ',' ORDER BY t.id)), '') AS s FROM "tenant_${id}"."${t}" t`,
    );
    out[t] = r.rows[0]!.s;
  }
  return out;
}
const EMPTY = Object.fromEntries(TABLES.map((t) => [t, '0:']));

describe(`kill -9 at random points (seed ${SEED})`, () => {
  it('create, migrate, move and purge: invariants hold after every kill, and the same command finishes the job', async () => {
    const log: string[] = [];
    let [from, to] = ['src', 'dst'];
    for (let round = 1; round <= ROUNDS; round++) {
      // create
      const creating = fleet(`k${round}_`, 6);
      const c = await killAtRandom(['tenant', 'create', ...creating, '--concurrency', '2'], 20);
      log.push(`create killed at statement ${c.seen}${c.finished ? ' (had finished)' : ''}`);
      await checkInvariants(`round ${round}, create`);
      const c2 = await cli(['tenant', 'create', ...creating, '--json']);
      expect(c2.code, c2.stderr).toBe(0);
      for (const t of c2.json<{ tenants: { status: string }[] }>().tenants) expect(['created', 'exists']).toContain(t.status);
      await checkInvariants(`round ${round}, create rerun`);

      // migrate: a new migration for the m fleet
      project.add(`${1800000000000 + round}_note_${round}`, `ALTER TABLE customers ADD COLUMN note_${round} text;`);
      const mTenants = fleet('m', 6).flatMap((id) => ['--tenant', id]);
      const m = await killAtRandom(['migrate', ...mTenants, '--concurrency', '2'], 16);
      log.push(`migrate killed at statement ${m.seen}${m.finished ? ' (had finished)' : ''}`);
      await checkInvariants(`round ${round}, migrate`);
      const m2 = await cli(['migrate', ...mTenants, '--json']);
      expect(m2.code, m2.stderr).toBe(0);
      await checkInvariants(`round ${round}, migrate rerun`);

      // move: the whole tenant, back and forth (the two stay at the same version)
      const before = { [from]: await rows(from), [to]: await rows(to) };
      const after = { [from]: EMPTY, [to]: before[from] };
      const mv = await killAtRandom(['move', '--from', from, '--to', to], 40);
      log.push(`move killed at statement ${mv.seen}${mv.finished ? ' (had finished)' : ''}`);
      await checkInvariants(`round ${round}, move`);
      const now = { [from]: await rows(from), [to]: await rows(to) };
      expect([before, after], `round ${round}: the move is all or nothing`).toContainEqual(now);
      const mv2 = await cli(['move', '--from', from, '--to', to, '--json']);
      expect(mv2.code, mv2.stderr).toBe(0);
      expect({ [from]: await rows(from), [to]: await rows(to) }).toEqual(after);
      [from, to] = [to, from];

      // purge
      const purging = fleet(`q${round}_`, 5);
      expect((await cli(['tenant', 'create', ...purging])).code).toBe(0);
      const p = await killAtRandom(['tenant', 'remove', ...purging, '--purge', '--yes'], 40);
      log.push(`purge killed at statement ${p.seen}${p.finished ? ' (had finished)' : ''}`);
      await checkInvariants(`round ${round}, purge`);
      const p2 = await cli(['tenant', 'remove', ...purging, '--purge', '--yes', '--json']);
      expect(p2.code, p2.stderr).toBe(0);
      for (const t of p2.json<{ tenants: { status: string }[] }>().tenants) expect(['purged', 'gone']).toContain(t.status);
      await checkInvariants(`round ${round}, purge rerun`);
    }
    // Where the kills fell (the seed replays them), on stdout for a reader of the run.
    console.log(`kill campaign, seed ${SEED}: ${log.join('; ')}`);
    expect(log).toHaveLength(ROUNDS * 4);
  });
});
