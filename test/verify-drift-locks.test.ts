import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, openTenantctl, verify, type Tenantctl } from '../src/index.js';
import { startEmbedded, type EmbeddedServer } from '../src/db/embedded.js';
import { readTenants } from '../src/control/tenants.js';
import { databaseOid } from '../src/roles/names.js';
import { tenantMigrations } from '../src/runtime/migration-files.js';
import { withCatalogSession } from '../src/verify/catalog-session.js';
import { tenantDigests } from '../src/verify/checks/drift/check.js';
import { StatementSlots } from '../src/verify/slots.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { scratchProject } from './support/migrations.js';

// drift's digests deparse every view, and pg_get_viewdef locks the view and every relation it reads until its
// statement ends. On a server with a small lock table (max_locks_per_transaction 10 x max_connections 20: 200
// slots; one transaction there can hold about 700 locks, the server's own processes and spare shared memory
// counted), 80 tenants of 12 tables and 6 views over them lock about 1,440 relations: in one statement that is
// `out of shared memory`. Drift sizes its statements by the lock table (half of its slots, counted in
// relations and shared by its two streams of digests: 2 tenants of 18 relations a statement here) and
// still finds what it must.

let server: EmbeddedServer;
let baseDir: string;
let db: TestDatabase;
let tc: Tenantctl;
const ids = Array.from({ length: 80 }, (_, i) => `l${String(i + 1).padStart(2, '0')}`);
const TABLES = 12;

beforeAll(async () => {
  baseDir = mkdtempSync(join(tmpdir(), 'tenantctl-locks-'));
  chmodSync(baseDir, 0o755); // the server's OS user reaches it: its data stays in it, and goes with it
  server = await startEmbedded({ baseDir, serverFlags: ['-c', 'max_connections=20', '-c', 'max_locks_per_transaction=10'] });
  db = await createTestDatabase(server.url);
  const tables = Array.from(
    { length: TABLES },
    (_, i) => `CREATE TABLE part_${i} (id bigint PRIMARY KEY, tenant_id text NOT NULL, qty int NOT NULL CHECK (qty >= 0));`,
  );
  const views = Array.from(
    { length: TABLES / 2 },
    (_, i) => `CREATE VIEW pair_${i} AS SELECT a.id, a.qty + b.qty AS qty FROM part_${2 * i} a JOIN part_${2 * i + 1} b USING (id);`,
  );
  const proj = scratchProject({ '1800000000000_many_tables_and_views': [...tables, ...views].join('\n') });
  tc = await openTenantctl({ databaseUrl: db.url, cwd: proj.dir, readConfigFile: false, config: {} });
  const created = await createTenants(tc, { ids, concurrency: 2 });
  expect(created.summary.failed).toBe(0);
  // one drift, in the last tenant: its statement is the last one
  await db.pool.query(`ALTER TABLE tenant_${ids.at(-1)}.part_11 DROP CONSTRAINT part_11_qty_check`);
}, 180_000);

afterAll(async () => {
  try {
    await tc?.close();
    await db?.drop();
  } finally {
    // the server is this file's own: it goes even when a failed run left its database busy
    await server?.stop();
    if (baseDir) rmSync(baseDir, { recursive: true, force: true });
  }
});

describe('drift on a server with a small lock table', () => {
  it('compares every tenant in statements that fit the lock table, and finds the one drift', async () => {
    const slots = await db.pool.query<{ n: number }>(
      `SELECT current_setting('max_locks_per_transaction')::int * current_setting('max_connections')::int AS n`,
    );
    expect(slots.rows[0]!.n).toBe(200);
    const r = await verify(tc, { checks: ['drift'] });
    expect(r.violations.map((v) => [v.tenant, v.object])).toEqual([[ids.at(-1), 'constraint part_11.part_11_qty_check']]);
    expect(r.tenants).toHaveLength(ids.length);
  });

  it('reads the digests in two streams of several statements each, and every tenant built alike has the same digest', async () => {
    const registry = await readTenants(tc.pool, tc);
    const oid = await databaseOid(tc.pool, tc);
    const sessions = { n: 0 };
    const { digests, relations } = await withCatalogSession(tc, (db) =>
      tenantDigests({
        ctx: tc,
        db,
        pool: tc.pool,
        slots: new StatementSlots(2),
        session: (fn) => {
          sessions.n++;
          return withCatalogSession(tc, fn);
        },
        tenants: registry,
        registry,
        databaseOid: oid,
        narrowed: false,
        migrations: () => tenantMigrations(tc),
        fleetKeys: [],
      }),
    );
    // 200 slots, half for drift, shared by its two streams: 50 relations a statement, 2 tenants of 18 relations;
    // 80 tenants in two streams of 20 statements
    expect({ relations, streams: sessions.n + 1 }).toEqual({ relations: 50, streams: 2 });
    const values = ids.map((id) => digests.get(`tenant_${id}`)?.digest);
    expect(values.every((d) => typeof d === 'string')).toBe(true);
    // the drifted tenant is the last; every other one has the first one's digest, whichever stream read it
    expect(new Set(values.slice(0, -1)).size).toBe(1);
    expect(values.at(-1)).not.toBe(values[0]);
  });
});
