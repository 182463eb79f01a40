import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT_LOCK_KEYS_PARAMS } from '../src/db/locks.js';
import { cliOn, REPO } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { snapshot } from './support/snapshot.js';

// A script that reruns the same command after an interruption gets the job
// finished; a script whose variable is unset gets exit 2, never the widest run.

let db: TestDatabase;
let cli: ReturnType<typeof cliOn>;
const MIGRATIONS = readdirSync(join(REPO, 'migrations/tenant')).length;
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(2, '0')}`);

beforeAll(async () => {
  db = await createTestDatabase();
  cli = cliOn(db.url);
  const r = await cli(['tenant', 'create', 'a', 'b']);
  expect(r.code, r.stderr).toBe(0);
  await db.pool.query(`INSERT INTO tenant_a.customers (tenant_id, name) VALUES ('a', 'x')`);
});
afterAll(async () => {
  await db?.drop();
});

interface Fleet {
  tenants: { id: string; status: string }[];
}

/** Every id registered, active, with its schema and every tenant migration journaled. */
async function atHead(wanted: string[]): Promise<string[]> {
  const r = await db.pool.query<{ id: string }>(
    `SELECT t.id FROM tenantctl.tenants t JOIN pg_namespace n ON n.nspname = t.schema_name
     WHERE t.id = ANY($1) AND t.status = 'active' AND (SELECT count(*) FROM tenantctl.tenant_migrations m WHERE m.tenant_id = t.id) = $2 ORDER BY t.id`,
    [wanted, MIGRATIONS],
  );
  return r.rows.map((row) => row.id);
}

describe('an empty value never means everything', () => {
  const cases: string[][] = [
    ['move', '--from', 'a', '--to', 'b', '--table', ''],
    ['move', '--from', 'a', '--to', 'b', '--table', ','],
    ['move', '--from', 'a', '--to', 'b', '--table', ' '],
    ['copy', '--from', 'a', '--to', 'b', '--table', 'customers,'],
    ['migrate', '--tenant', ''],
    ['migrate', '--tenant', ','],
    ['migrate', '--tenant', 'a,,b'],
    ['migrate', 'status', '--tenant', ''],
    ['migrate', 'down', '--tenant', ''],
    ['verify', '--tenant', ''],
    ['verify', '--check', ''],
    ['exec', '--tenant', '', '-c', 'SELECT 1'],
    ['tenant', 'create', ''],
    ['tenant', 'remove', '', '--yes'],
  ];
  it('an empty or blank item in any list flag is exit 2 with one line, and nothing changes', async () => {
    const before = await snapshot(db.pool);
    for (const args of cases) {
      const r = await cli([...args, '--json']);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.json<{ error: { code: string } }>().error.code, args.join(' ')).toMatch(/^[a-z_]+$/);
    }
    expect(await snapshot(db.pool)).toBe(before);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM tenant_a.customers`)).rows[0].n).toBe(1);
  });
});

describe('the same command again finishes the job', () => {
  it('tenant create of twenty ids after a run that made the first seven: exit 0, seven exist, thirteen created, all at the head', async () => {
    const all = ids('t', 20);
    // What an interrupted run leaves: each tenant is one transaction, so some exist in full, the rest not at all.
    expect((await cli(['tenant', 'create', ...all.slice(0, 7)])).code).toBe(0);
    const r = await cli(['tenant', 'create', ...all, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const statuses = r.json<Fleet>().tenants.map((t) => [t.id, t.status]);
    expect(statuses).toEqual(all.map((id, i) => [id, i < 7 ? 'exists' : 'created']));
    expect(await atHead(all)).toEqual(all);
    // And once more: nothing left to do, still exit 0.
    const again = await cli(['tenant', 'create', ...all, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(new Set(again.json<Fleet>().tenants.map((t) => t.status))).toEqual(new Set(['exists']));
  });

  it('tenant remove --purge of ten ids after a run that purged the first four: exit 0, four gone, six purged, nothing left', async () => {
    const all = ids('p', 10);
    expect((await cli(['tenant', 'create', ...all])).code).toBe(0);
    expect((await cli(['tenant', 'remove', ...all.slice(0, 4), '--purge', '--yes'])).code).toBe(0);
    const r = await cli(['tenant', 'remove', ...all, '--purge', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<Fleet>().tenants.map((t) => [t.id, t.status])).toEqual(all.map((id, i) => [id, i < 4 ? 'gone' : 'purged']));
    const left = await db.pool.query(
      `SELECT id FROM tenantctl.tenants WHERE id = ANY($1) UNION ALL SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_p%'
       UNION ALL SELECT rolname FROM pg_roles WHERE rolname LIKE 'tc' || (SELECT oid FROM pg_database WHERE datname = current_database()) || '\\_p%'`,
      [all],
    );
    expect(left.rows).toEqual([]);
    // A purge of an id that never existed is still unknown: exit 2.
    const never = await cli(['tenant', 'remove', 'p01', 'never', '--purge', '--yes', '--json']);
    expect(never.code).toBe(2);
    expect(never.json<{ error: { code: string } }>().error.code).toBe('unknown_tenant');
  });

  it('racing creates of one id give one outcome: one created, the others exists, all exit 0', async () => {
    const runs = await raceBehindLock('race', [[], [], [], []]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const statuses = runs.map((r) => r.json<Fleet>().tenants[0]!.status).sort();
    expect(statuses).toEqual(['created', 'exists', 'exists', 'exists']);
    expect(await atHead(['race'])).toEqual(['race']);
  });

  it('racing creates of one id with different keys: one is created, the other is exit 2 tenant_exists, as when it comes second', async () => {
    const runs = await raceBehindLock('race2', [[], ['--key', 'other']]);
    expect(runs.map((r) => r.code).sort()).toEqual([0, 2]);
    const loser = runs.find((r) => r.code === 2)!;
    expect(loser.json<{ error: { code: string } }>().error.code).toBe('tenant_exists');
    const winner = runs.find((r) => r.code === 0)!;
    expect(winner.json<Fleet>().tenants[0]!.status).toBe('created');
    const key = (await db.pool.query(`SELECT key FROM tenantctl.tenants WHERE id = 'race2'`)).rows[0].key;
    expect(key).toBe(runs[0] === winner ? 'race2' : 'other');
    // Coming second, after the first has finished, is the same outcome.
    const late = await cli(['tenant', 'create', 'race2', '--key', key === 'other' ? 'race2' : 'other', '--json']);
    expect(late.code).toBe(2);
    expect(late.json<{ error: { code: string } }>().error.code).toBe('tenant_exists');
  });
});

/**
 * Starts `tenant create ID` once per entry of `extra` while the test holds the
 * tenant's lock, waits (polling pg_locks) until every run is queued on it, past
 * its checks, then lets them go: they truly race for the one id.
 */
async function raceBehindLock(id: string, extra: string[][]) {
  const holder = await db.pool.connect();
  try {
    await holder.query(`SELECT pg_advisory_lock(${TENANT_LOCK_KEYS_PARAMS})`, ['tenantctl', id]);
    const runs = Promise.all(extra.map((more) => cli(['tenant', 'create', id, ...more, '--json'])));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = 'tenantctl' AND a.datname = current_database()`,
      );
      if (r.rows[0]!.n === extra.length) break;
      if (Date.now() > deadline) throw new Error(`only ${r.rows[0]!.n} of ${extra.length} creates reached the lock`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await holder.query(`SELECT pg_advisory_unlock(${TENANT_LOCK_KEYS_PARAMS})`, ['tenantctl', id]);
    return await runs;
  } finally {
    holder.release();
  }
}
