import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliOn } from './support/cli.js';
import { createSecondDatabase, createTestDatabase, type TestDatabase } from './support/db.js';
import { scratchProject } from './support/migrations.js';
import { startWriter } from './support/writer.js';

let home: TestDatabase;
let eu: TestDatabase;
/** A third server of the fleet: another database on the second server (each database has its own control schema). */
let us: TestDatabase;
let dir: string;
let cli: ReturnType<typeof cliOn>;
const env = () => ({ TC_TEST_EU_URL: eu.url, TC_TEST_US_URL: us.url });

beforeAll(async () => {
  [home, eu, us] = await Promise.all([createTestDatabase(), createSecondDatabase(), createSecondDatabase()]);
  const proj = scratchProject();
  dir = proj.dir;
  writeFileSync(`${dir}/tenantctl.config.json`, JSON.stringify({ servers: { eu: '${TC_TEST_EU_URL}', us: '${TC_TEST_US_URL}' } }));
  cli = cliOn(home.url, { cwd: dir, env: env() });
  expect((await cli(['init'])).code).toBe(0);
});
afterAll(async () => {
  await Promise.all([home.drop(), eu.drop(), us.drop()]);
});

const dbOf = (server: string) => (server === 'eu' ? eu : server === 'us' ? us : home);

async function fill(db: TestDatabase, id: string, n: number): Promise<void> {
  const s = `tenant_${id}`;
  await db.pool.query(`
    INSERT INTO ${s}.customers (tenant_id, name) SELECT '${id}', 'c' || g FROM generate_series(1, ${n}) g;
    INSERT INTO ${s}.projects (tenant_id, customer_id, name) SELECT '${id}', c.id, 'p' || c.id FROM ${s}.customers c;
    INSERT INTO ${s}.tasks (tenant_id, project_id, title) SELECT '${id}', p.id, 't' || g FROM ${s}.projects p, generate_series(1, 2) g;
    INSERT INTO ${s}.invoices (tenant_id, customer_id, amount_cents) SELECT '${id}', c.id, c.id FROM ${s}.customers c;`);
}

async function digest(db: TestDatabase, schema: string): Promise<string> {
  const parts: string[] = [];
  for (const t of ['customers', 'invoices', 'projects', 'tasks']) {
    const r = await db.pool.query<{ s: string }>(
      `SELECT count(*) || ':' || coalesce(md5(string_agg(to_jsonb(t)::text, ',' ORDER BY t.id)), '') AS s FROM "${schema}"."${t}" t`,
    );
    parts.push(`${t}=${r.rows[0]!.s}`);
  }
  return parts.join(' ');
}

const placement = async (id: string) =>
  (await home.pool.query<{ server: string }>(`SELECT server FROM tenantctl.placements WHERE tenant_id = $1`, [id])).rows[0]?.server ??
  'default';

/** What each server holds of a tenant: its registry status and schemas. */
async function sides(id: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, db] of [
    ['default', home],
    ['eu', eu],
  ] as const) {
    const row = await db.pool.query<{ status: string }>(`SELECT status FROM tenantctl.tenants WHERE id = $1`, [id]);
    const sch = await db.pool.query<{ n: string }>(
      `SELECT string_agg(nspname, ',' ORDER BY nspname) AS n FROM pg_namespace WHERE nspname LIKE $1`,
      [`tenant\\_${id}%`],
    );
    out[name] = `${row.rows[0]?.status ?? 'none'} ${sch.rows[0]!.n ?? ''}`.trim();
  }
  return out;
}

/** Until the server has ended every session of the killed CLI on this database. */
async function sessionsGone(db: TestDatabase): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    const r = await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tenantctl'`);
    if (r.rowCount === 0) return;
    await sleep(25);
  }
  throw new Error('the killed run still has sessions');
}

/** Runs relocate until it says it paused at `step` (the documented test hook), then kill -9. */
async function killAt(id: string, to: string, step: string, then?: () => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, [BIN, '--database-url', home.url, 'tenant', 'relocate', id, '--to', to], {
    cwd: dir,
    env: { ...process.env, ...env(), NO_COLOR: '1', TENANTCTL_TEST_PAUSE_AT: step },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.includes(`paused at ${step}`)) resolve();
    });
    void exited.then((code) => reject(new Error(`relocate exited (${code}) before pausing at ${step}: ${stderr}`)));
  });
  await then?.();
  child.kill('SIGKILL');
  await exited;
  await Promise.all([sessionsGone(home), sessionsGone(eu), sessionsGone(us)]);
}

describe('tenant relocate, killed', () => {
  it.each([
    ['built', 'default'],
    ['copied', 'default'],
    ['target-committed', 'default'],
    ['source-archiving', 'default'],
  ])('from the home server, killed at %s: wholly on the source, and the next run finishes', async (step, expected) => {
    const id = `k_${step.replace(/-/g, '_')}`;
    expect((await cli(['tenant', 'create', id])).code).toBe(0);
    await fill(home, id, 300);
    const before = await digest(home, `tenant_${id}`);
    await killAt(id, 'eu', step);
    expect(await placement(id)).toBe(expected);
    const s = await sides(id);
    expect(s.default).toBe(`active tenant_${id}`);
    // eu holds nothing, or a whole copy the map does not point at (a leftover, not a tenant).
    expect(['none', `active tenant_${id}`]).toContain(s.eu);
    expect(await digest(home, `tenant_${id}`)).toBe(before);
    // The freeze is gone: the source takes writes again.
    await home.pool.query(`INSERT INTO tenant_${id}.customers (tenant_id, name) VALUES ($1, 'after-kill')`, [id]);
    const shown = (await cli(['tenant', 'show', id, '--json'])).json<{ tenant: { server: string } }>();
    expect(shown.tenant.server).toBe('default');

    const now = await digest(home, `tenant_${id}`);
    const rerun = await cli(['tenant', 'relocate', id, '--to', 'eu']);
    expect(rerun.code, rerun.stderr).toBe(0);
    if (s.eu !== 'none') expect(rerun.stderr).toMatch(/cleared what an earlier run left/);
    expect(await placement(id)).toBe('eu');
    expect(await digest(eu, `tenant_${id}`)).toBe(now);
    expect(await sides(id)).toEqual({ default: `archived tenant_${id}$archived`, eu: `active tenant_${id}` });
  });

  it.each([
    ['built', 'eu'],
    ['copied', 'eu'],
    ['target-committed', 'default'],
    ['source-archiving', 'default'],
  ])('to the home server, killed at %s: wholly on one side, and the next run finishes', async (step, expected) => {
    const id = `h_${step.replace(/-/g, '_')}`;
    expect((await cli(['tenant', 'create', id, '--server', 'eu'])).code).toBe(0);
    await fill(eu, id, 300);
    const before = await digest(eu, `tenant_${id}`);
    await killAt(id, 'default', step);
    expect(await placement(id)).toBe(expected);
    const live = dbOf(expected);
    expect(await digest(live, `tenant_${id}`)).toBe(before);
    const shown = (await cli(['tenant', 'show', id, '--json'])).json<{ tenant: { server: string } }>();
    expect(shown.tenant.server).toBe(expected);
    const s = await sides(id);
    if (expected === 'eu') {
      expect(s.eu).toBe(`active tenant_${id}`);
      // The home server holds nothing of it: a home row with no placement would be a live tenant.
      expect(s.default).toBe('none');
    } else {
      expect(s.default).toBe(`active tenant_${id}`);
      // Flipped before the source's commit: eu's copy is not archived yet; the next run archives it.
      expect(s.eu).toBe(`active tenant_${id}`);
    }
    const rerun = await cli(['tenant', 'relocate', id, '--to', 'default', '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json<{ converged?: boolean }>().converged ?? false).toBe(expected === 'default');
    expect(await placement(id)).toBe('default');
    expect(await digest(home, `tenant_${id}`)).toBe(before);
    expect(await sides(id)).toEqual({ default: `active tenant_${id}`, eu: `archived tenant_${id}$archived` });
    // Once finished, the same command has nothing left to do.
    const third = await cli(['tenant', 'relocate', id, '--to', 'default']);
    expect(third.code).toBe(2);
  });
});

describe('tenant relocate between two servers that are not the home one', () => {
  it('killed after the flip: wholly on the target, and the next run archives the source', async () => {
    expect((await cli(['tenant', 'create', 'x1', '--server', 'eu'])).code).toBe(0);
    await fill(eu, 'x1', 200);
    const before = await digest(eu, 'tenant_x1');
    // While it moves, the tenant's lock is held: a migration skips it, another relocation is refused.
    await killAt('x1', 'us', 'flipped', async () => {
      const second = await cli(['tenant', 'relocate', 'x1', '--to', 'us']);
      expect(second.code).toBe(3);
      expect(second.stderr).toMatch(/another tenantctl run holds tenant "x1"/);
    });
    expect(await placement('x1')).toBe('us');
    expect(await digest(us, 'tenant_x1')).toBe(before);
    expect((await eu.pool.query<{ status: string }>(`SELECT status FROM tenantctl.tenants WHERE id = 'x1'`)).rows[0]!.status).toBe(
      'active',
    );
    const rerun = await cli(['tenant', 'relocate', 'x1', '--to', 'us', '--json']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json<{ converged: boolean; from: string }>()).toMatchObject({ converged: true, from: 'eu' });
    expect((await eu.pool.query<{ status: string }>(`SELECT status FROM tenantctl.tenants WHERE id = 'x1'`)).rows[0]!.status).toBe(
      'archived',
    );
    // And a whole move between them, with a migration waiting on the lock meanwhile.
    const back = await cli(['tenant', 'relocate', 'x1', '--to', 'eu']);
    expect(back.code, back.stderr).toBe(0);
    expect(await placement('x1')).toBe('eu');
    expect(await digest(eu, 'tenant_x1')).toBe(before);
  });

  it('a migration run while a tenant moves skips it (the tenant is locked), and reaches it after the move', async () => {
    expect((await cli(['tenant', 'create', 'x2', '--server', 'eu'])).code).toBe(0);
    await fill(eu, 'x2', 50);
    writeFileSync(
      `${dir}/migrations/tenant/1800000000002_note.sql`,
      '-- Up Migration\nALTER TABLE customers ADD COLUMN note text;\n-- Down Migration\nALTER TABLE customers DROP COLUMN note;\n',
    );
    try {
      await killAt('x2', 'us', 'copied', async () => {
        const m = await cli(['migrate', '--tenant', 'x2', '--json']);
        expect(m.code).toBe(3);
        expect(m.json<{ tenants: { id: string; status: string; reason?: string }[] }>().tenants).toEqual([
          expect.objectContaining({ id: 'x2', status: 'skipped', reason: 'locked' }),
        ]);
      });
      const moved = await cli(['tenant', 'relocate', 'x2', '--to', 'us']);
      expect(moved.code, moved.stderr).toBe(0);
      const m = await cli(['migrate', '--tenant', 'x2', '--json']);
      expect(m.code, m.stdout).toBe(0);
      const col = await us.pool.query(`SELECT 1 FROM information_schema.columns WHERE table_schema = 'tenant_x2' AND column_name = 'note'`);
      expect(col.rowCount).toBe(1);
    } finally {
      rmSync(`${dir}/migrations/tenant/1800000000002_note.sql`);
    }
  });
});

describe('tenant relocate with a writer', () => {
  it('every acknowledged write ends on the target, none lost, none only in the archive', async () => {
    expect((await cli(['tenant', 'create', 'w1'])).code).toBe(0);
    await fill(home, 'w1', 20000);
    const writer = startWriter(home.pool, { default: home.pool, eu: eu.pool }, 'w1');
    await writer.more(20);
    const out = await cli(['tenant', 'relocate', 'w1', '--to', 'eu', '--json']);
    expect(out.code, out.stderr).toBe(0);
    await writer.more(20);
    await writer.stop();
    const { acked, failures } = writer;

    const onEu = (await eu.pool.query<{ name: string }>(`SELECT name FROM tenant_w1.customers WHERE name LIKE 'w%'`)).rows.map(
      (r) => r.name,
    );
    const archived = (
      await home.pool.query<{ name: string }>(`SELECT name FROM "tenant_w1$archived".customers WHERE name LIKE 'w%'`)
    ).rows.map((r) => r.name);
    // Every acknowledged write is on the target, once; nothing else is.
    expect(onEu.sort()).toEqual([...acked].sort());
    // The archive holds only writes the copy carried: none was acknowledged into it after the copy.
    const eus = new Set(onEu);
    expect(archived.filter((n) => !eus.has(n))).toEqual([]);
    expect(archived.length).toBeLessThan(acked.length);
    // Writers blocked on the freeze failed loudly and retried on the target.
    expect(failures).toBeGreaterThan(0);
    console.log(`writer: ${acked.length} writes acknowledged, ${failures} retried, longest gap ${writer.longestMs.toFixed(0)} ms`);
  });
});
