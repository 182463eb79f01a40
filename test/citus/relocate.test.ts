// relocateOnCitus: a tenant's distributed schema moves to another worker with citus_schema_move, online under
// a writer (every write succeeds; the longest gap between two writes is measured), refused up front for what
// Citus would refuse mid-way, and recorded in the operations log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import {
  openTenantctl,
  readOperations,
  rebalanceOnCitus,
  relocateOnCitus,
  type RelocateProgress,
  type Tenantctl,
} from '../../src/index.js';
import { cliOn } from '../support/cli.js';
import { citusProject, createCitusDatabase, type CitusDatabase } from './support.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

let db: CitusDatabase;
let project: { dir: string; remove(): void };
let tc: Tenantctl;
const cli = (args: string[]) => cliOn(db.url, { cwd: project.dir })(args);

beforeAll(async () => {
  db = await createCitusDatabase();
  project = citusProject();
  // One table without a primary key or replica identity: an online move cannot carry its UPDATEs and DELETEs.
  writeFileSync(
    join(project.dir, 'migrations/tenant/1800000000000_audit.sql'),
    '-- Up Migration\nCREATE TABLE audit_log (at timestamptz NOT NULL DEFAULT now(), what text);\n-- Down Migration\nDROP TABLE audit_log;\n',
  );
  expect((await cli(['init'])).code).toBe(0);
  expect((await cli(['tenant', 'create', 'acme', 'globex'])).code).toBe(0);
  tc = await openTenantctl({ databaseUrl: db.url, cwd: project.dir });
});

afterAll(async () => {
  await tc?.close();
  await db?.drop();
  project?.remove();
});

async function portOf(schema: string): Promise<number> {
  const r = await db.pool.query<{ port: number }>(
    `SELECT DISTINCT nodeport AS port FROM citus_shards WHERE citus_table_type = 'schema' AND table_name::text LIKE $1`,
    [`${schema}.%`],
  );
  expect(r.rows).toHaveLength(1);
  return r.rows[0]!.port;
}

function otherWorker(port: number): string {
  const w = db.workers.find((x) => x.port !== port)!;
  return `${w.host}:${w.port}`;
}

describe('relocateOnCitus', () => {
  it('refuses before anything moves: a bad target, an unknown worker, a table without a replica identity online', async () => {
    await expect(relocateOnCitus(tc, { id: 'acme', to: 'nowhere' })).rejects.toThrow(/--to must be a Citus worker as HOST:PORT/);
    await expect(relocateOnCitus(tc, { id: 'acme', to: '127.0.0.1:1' })).rejects.toThrow(
      /127\.0\.0\.1:1 is not an active Citus worker that holds shards; workers: 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+/,
    );
    const before = await portOf('tenant_acme');
    await expect(relocateOnCitus(tc, { id: 'acme', to: otherWorker(before) })).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(
        /tenant "acme" cannot move online: tenant_acme\.audit_log has no primary key or replica identity.*or move with --block-writes.*nothing was moved/,
      ),
    });
    expect(await portOf('tenant_acme')).toBe(before);
    const here = await relocateOnCitus(tc, { id: 'acme', to: `127.0.0.1:${before}` });
    expect(here.status).toBe('already-there');
  });

  it('moves with blockWrites when asked, and logs the move', async () => {
    const before = await portOf('tenant_globex');
    const r = await relocateOnCitus(tc, { id: 'globex', to: otherWorker(before), blockWrites: true });
    expect(r).toMatchObject({ status: 'relocated', mode: 'block_writes', from: { port: before } });
    expect(await portOf('tenant_globex')).toBe(r.to.port);
    const log = (await readOperations(tc, 'globex')).at(-1)!;
    expect(log).toMatchObject({ operation: 'relocate', detail: { mode: 'block_writes', from: { port: before }, to: { port: r.to.port } } });
  });

  it('the CLI: `tenant relocate ID --to HOST:PORT --block-writes` moves it there, and says so in JSON', async () => {
    const before = await portOf('tenant_globex');
    const target = otherWorker(before);
    const r = await cli(['tenant', 'relocate', 'globex', '--to', target, '--block-writes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ id: 'globex', status: 'relocated', mode: 'block_writes', from: { port: before } });
    expect(`127.0.0.1:${await portOf('tenant_globex')}`).toBe(target);
    const bad = await cli(['tenant', 'relocate', 'globex', '--to', target, '--mode', 'logical']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--mode is for a move between servers of the fleet/);
  });

  it('moves online under a writer: every write succeeds, progress is reported, the tenant stays usable', async () => {
    // Give audit_log a replica identity, and the tenant some size.
    await db.pool.query(`ALTER TABLE tenant_acme.audit_log REPLICA IDENTITY FULL`);
    await db.pool.query(
      `INSERT INTO tenant_acme.customers (tenant_id, name) SELECT 'acme', 'c' || g || repeat('x', 200) FROM generate_series(1, 40000) g`,
    );
    const before = await portOf('tenant_acme');
    const writer = new pg.Client({ connectionString: db.url });
    await writer.connect();
    let stop = false;
    let writes = 0;
    const errors: string[] = [];
    let last = performance.now();
    let longestGapMs = 0;
    const loop = (async () => {
      while (!stop) {
        try {
          await writer.query(`INSERT INTO tenant_acme.customers (tenant_id, name) VALUES ('acme', 'writer')`);
          writes++;
        } catch (err) {
          errors.push((err as Error).message);
        }
        const now = performance.now();
        longestGapMs = Math.max(longestGapMs, now - last);
        last = now;
        // Pacing of the writer (one write every ~5 ms), not synchronisation.
        await new Promise((done) => setTimeout(done, 5));
      }
    })();
    const progress: RelocateProgress[] = [];
    const r = await relocateOnCitus(tc, { id: 'acme', to: otherWorker(before), onProgress: (p) => progress.push(p), progressEveryMs: 50 });
    stop = true;
    await loop;
    await writer.end();
    expect(r).toMatchObject({ status: 'relocated', mode: 'online', from: { port: before } });
    expect(await portOf('tenant_acme')).toBe(r.to.port);
    expect(errors).toEqual([]);
    expect(writes).toBeGreaterThan(10);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)!.totalBytes).toBeGreaterThan(1_000_000);
    console.log(
      `online move of ${(r.sizeBytes / 1e6).toFixed(1)} MB in ${r.seconds.toFixed(2)} s: ${writes} writes, ${errors.length} errors, longest gap ${longestGapMs.toFixed(0)} ms`,
    );
    const n = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM tenant_acme.customers WHERE name = 'writer'`);
    expect(n.rows[0]!.n).toBe(writes);
    const list = await cli(['tenant', 'show', 'acme', '--json']);
    expect(list.json<{ tenant: { placement: { port: number } } }>().tenant.placement.port).toBe(r.to.port);
    expect((await readOperations(tc, 'acme')).at(-1)).toMatchObject({ operation: 'relocate', detail: { mode: 'online' } });
  });

  it("rebalanceOnCitus evens the tenants out over the workers through Citus's rebalancer, and logs each move", async () => {
    expect((await cli(['tenant', 'create', 'a1', 'a2', 'a3', 'a4'])).code).toBe(0);
    const target = db.workers[0]!;
    for (const id of ['acme', 'globex', 'a1', 'a2', 'a3', 'a4'])
      await relocateOnCitus(tc, { id, to: `${target.host}:${target.port}`, blockWrites: true });
    // globex and a1..a4 still have a table without a replica identity: online is refused up front.
    await expect(rebalanceOnCitus(tc)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(
        /cannot be rebalanced online: tenant_a1\.audit_log, .*tenant_globex\.audit_log have no primary key or replica identity/,
      ),
    });
    const r = await rebalanceOnCitus(tc, { blockWrites: true });
    expect(r.jobId).not.toBeNull();
    expect(r.moved.length).toBeGreaterThan(0);
    const ports = await db.pool.query<{ port: number; n: number }>(
      `SELECT nodeport AS port, count(DISTINCT split_part(table_name::text, '.', 1))::int AS n FROM citus_shards
        WHERE citus_table_type = 'schema' GROUP BY 1 ORDER BY 1`,
    );
    expect(ports.rows.map((row) => row.n)).toEqual([3, 3]);
    for (const m of r.moved) {
      expect(await portOf(`tenant_${m.id}`)).toBe(m.to.port);
      expect((await readOperations(tc, m.id)).at(-1)).toMatchObject({ operation: 'relocate', detail: { rebalanceJob: r.jobId } });
    }
    const again = await cli(['tenant', 'rebalance', '--block-writes', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json()).toMatchObject({ moved: [], mode: 'block_writes' });
    expect((await cli(['tenant', 'rebalance', '--block-writes'])).stdout).toMatch(/^the tenants are balanced already; nothing moved$/m);
  });
});
