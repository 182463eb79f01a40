// A Citus cluster for the `citus` test project: TENANTCTL_CITUS_URL names its coordinator (with at least two
// workers). Citus 12.1 does not propagate CREATE DATABASE, so each test file makes its own database on the
// coordinator and on every worker, with the extension in each, and adds the workers to it.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { REPO } from '../support/cli.js';

export interface CitusDatabase {
  name: string;
  /** The coordinator's URL for this database: what tenantctl is given. */
  url: string;
  /** A pool on the coordinator's database, for assertions against Citus's catalog. */
  pool: pg.Pool;
  workers: { host: string; port: number; url: string }[];
  drop(): Promise<void>;
}

export function citusUrl(): string {
  const url = process.env.TENANTCTL_CITUS_URL;
  if (!url) throw new Error('TENANTCTL_CITUS_URL is not set: the citus tests need a Citus coordinator with two workers (docs/citus.md)');
  return url;
}

function withDatabase(url: string, database: string, host?: string, port?: number): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  if (host !== undefined) u.hostname = host;
  if (port !== undefined) u.port = String(port);
  return u.toString();
}

async function onNode<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh database on the coordinator and every worker of TENANTCTL_CITUS_URL's cluster, the workers added. */
export async function createCitusDatabase(): Promise<CitusDatabase> {
  const admin = citusUrl();
  const name = `tc_citus_${randomBytes(5).toString('hex')}`;
  const nodes = await onNode(admin, async (c) => {
    const r = await c.query<{ host: string; port: number; coordinator: boolean }>(
      `SELECT nodename AS host, nodeport AS port, groupid = 0 AS coordinator FROM pg_dist_node WHERE noderole = 'primary' ORDER BY groupid`,
    );
    return r.rows;
  });
  const coordinator = nodes.find((n) => n.coordinator);
  const workers = nodes.filter((n) => !n.coordinator);
  if (!coordinator || workers.length < 2)
    throw new Error(`${admin}: a Citus coordinator (citus_set_coordinator_host) with at least two workers is needed (docs/citus.md)`);
  const urls = [admin, ...workers.map((w) => withDatabase(admin, 'postgres', w.host, w.port))];
  for (const url of urls) {
    await onNode(url, (c) => c.query(`CREATE DATABASE "${name}"`));
    await onNode(withDatabase(url, name), (c) => c.query('CREATE EXTENSION citus'));
  }
  const url = withDatabase(admin, name);
  await onNode(url, async (c) => {
    await c.query('SELECT citus_set_coordinator_host($1, $2)', [coordinator.host, coordinator.port]);
    for (const w of workers) await c.query('SELECT citus_add_node($1, $2)', [w.host, w.port]);
  });
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  return {
    name,
    url,
    pool,
    workers: workers.map((w) => ({ ...w, url: withDatabase(admin, name, w.host, w.port) })),
    async drop() {
      // Tenant role names carry the coordinator database's oid; Citus made the same roles on every worker.
      const oid = (await pool.query<{ oid: number }>('SELECT oid::int AS oid FROM pg_database WHERE datname = current_database()')).rows[0]!
        .oid;
      await pool.end();
      for (const nodeUrl of urls) {
        await onNode(nodeUrl, async (c) => {
          await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
          const roles = await c.query<{ rolname: string }>(`SELECT rolname FROM pg_roles WHERE rolname LIKE $1`, [`tc${oid}\\_%`]);
          const list = roles.rows.map((r) => r.rolname);
          for (const role of [...list.filter((n) => !n.endsWith('__shared')), ...list.filter((n) => n.endsWith('__shared'))])
            await c.query(`DROP ROLE IF EXISTS "${role}"`);
        });
      }
    },
  };
}

/**
 * A project folder with the repository's example migrations, ready for Citus: the trigger migration turns
 * citus.enable_unsafe_triggers on for its transaction (the fix the refusal message names). `raw` keeps them as
 * they are. Extra files may be added under migrations/tenant. remove() deletes it.
 */
export function citusProject(options: { raw?: boolean; config?: Record<string, unknown> } = {}): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tc-citus-'));
  cpSync(join(REPO, 'migrations'), join(dir, 'migrations'), { recursive: true });
  if (!options.raw) {
    const file = join(dir, 'migrations/tenant/1700000006000_updated_at_trigger.sql');
    const text = readFileSync(file, 'utf8').replace(
      'CREATE TRIGGER projects_updated_at',
      'SET LOCAL citus.enable_unsafe_triggers = on;\nCREATE TRIGGER projects_updated_at',
    );
    writeFileSync(file, text);
  }
  if (options.config) writeFileSync(join(dir, 'tenantctl.config.json'), JSON.stringify(options.config));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
