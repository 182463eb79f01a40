// Non-transactional migrations (pgm.noTransaction()) per tenant: outside a transaction, under the
// tenant's lock, recorded only when every statement succeeded; leftovers of a failed CONCURRENTLY
// statement are found by `migrate status` and cleared by the next `migrate`.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { scratchProject } from './support/migrations.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

interface TenantJson {
  id: string;
  status: string;
  applied: string[];
  error: string | null;
  migration?: string;
  repaired?: string[];
  reason?: string;
}
interface MigrateJson {
  tenants: TenantJson[];
  summary: { migrated: number; upToDate: number; failed: number; skipped: number };
}
interface StatusJson {
  tenants: { id: string; pending: string[]; invalidIndexes: string[] }[];
}

/** A fleet in its own control schema and prefix, created at the head of the example migrations. */
async function fleet(name: string, tenants: string[]) {
  const proj = scratchProject();
  const control = `ctl_${name}`;
  writeFileSync(
    join(proj.dir, 'tenantctl.config.json'),
    JSON.stringify({ controlSchema: control, schemaPrefix: `${name}_`, sharedSchema: `${name}_shared` }),
  );
  const cli = cliOn(db.url, { cwd: proj.dir });
  const created = await cli(['tenant', 'create', ...tenants]);
  expect(created.code, created.stderr).toBe(0);
  const js = (file: string, body: string) => writeFileSync(join(proj.tenant, `${file}.js`), `export const up = (pgm) => {\n${body}\n};\n`);
  const journal = async (id: string, migration: string) =>
    (await db.pool.query(`SELECT count(*)::int AS n FROM ${control}.tenant_migrations WHERE tenant_id = $1 AND name = $2`, [id, migration]))
      .rows[0].n as number;
  const index = async (schema: string, name: string) =>
    (
      await db.pool.query<{ valid: boolean }>(
        `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
        [schema, name],
      )
    ).rows[0]?.valid;
  return { proj, cli, js, journal, index, control };
}

describe('non-transactional migrations', () => {
  it('run between transactional ones, each in its own transaction; a failure after it keeps it recorded and rolls back only the failing one', async () => {
    const f = await fleet('mix', ['m1', 'm2']);
    f.proj.add('1700000010000_before', '-- Up Migration\nALTER TABLE customers ADD COLUMN region text;\n');
    f.js(
      '1700000011000_email_idx',
      "  pgm.noTransaction();\n  pgm.createIndex('customers', 'email', { concurrently: true, name: 'customers_email_cc' });",
    );
    f.proj.add(
      '1700000012000_after',
      '-- Up Migration\nALTER TABLE projects ADD COLUMN region text;\nALTER TABLE customers ADD COLUMN tier text;\n',
    );
    // m2 already has the column the last migration adds: that migration fails there, whole.
    await db.pool.query('ALTER TABLE mix_m2.customers ADD COLUMN tier text');

    const r = await f.cli(['migrate', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const doc = r.json<MigrateJson>();
    expect(doc.tenants.find((t) => t.id === 'm1')).toMatchObject({
      status: 'migrated',
      applied: ['1700000010000_before', '1700000011000_email_idx', '1700000012000_after'],
    });
    const m2 = doc.tenants.find((t) => t.id === 'm2')!;
    expect(m2).toMatchObject({
      status: 'failed',
      migration: '1700000012000_after',
      applied: ['1700000010000_before', '1700000011000_email_idx'],
    });
    expect(m2.error).toMatch(/1700000012000_after\.sql: column "tier" of relation "customers" already exists/);
    for (const schema of ['mix_m1', 'mix_m2']) expect(await f.index(schema, 'customers_email_cc')).toBe(true);
    expect(await f.journal('m2', '1700000011000_email_idx')).toBe(1);
    expect(await f.journal('m2', '1700000012000_after')).toBe(0);
    // The failing migration's first statement was rolled back with it.
    const cols = await db.pool.query(
      `SELECT 1 FROM information_schema.columns WHERE table_schema = 'mix_m2' AND table_name = 'projects' AND column_name = 'region'`,
    );
    expect(cols.rowCount).toBe(0);

    await db.pool.query('ALTER TABLE mix_m2.customers DROP COLUMN tier');
    const again = await f.cli(['migrate', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json<MigrateJson>().tenants.find((t) => t.id === 'm2')).toMatchObject({
      status: 'migrated',
      applied: ['1700000012000_after'],
    });
    for (const id of ['m1', 'm2'])
      for (const m of ['1700000010000_before', '1700000011000_email_idx', '1700000012000_after']) expect(await f.journal(id, m)).toBe(1);
  });

  it('a unique index over duplicates: failed, INVALID, not recorded, shown by status; IF NOT EXISTS does not hide it; the run after the fix drops and rebuilds it', async () => {
    const f = await fleet('uniq', ['u1', 'u2']);
    await db.pool.query(`INSERT INTO uniq_u2.customers (tenant_id, name, email) VALUES ('u2', 'same', 'a'), ('u2', 'same', 'b')`);
    const name = '1700000010000_unique_name';
    f.js(
      name,
      "  pgm.noTransaction();\n  pgm.createIndex('customers', 'name', { concurrently: true, unique: true, ifNotExists: true, name: 'customers_name_uq' });",
    );

    const first = await f.cli(['migrate', '--json']);
    expect(first.code).toBe(1);
    const u2 = first.json<MigrateJson>().tenants.find((t) => t.id === 'u2')!;
    expect(u2).toMatchObject({ status: 'failed', migration: name, applied: [] });
    expect(u2.error).toMatch(
      /could not create unique index "customers_name_uq".*the next run drops the INVALID index it left and builds it again/,
    );
    expect(await f.index('uniq_u2', 'customers_name_uq')).toBe(false);
    expect(await f.index('uniq_u1', 'customers_name_uq')).toBe(true);
    expect(await f.journal('u2', name)).toBe(0);

    const status = await f.cli(['migrate', 'status', '--check', '--json']);
    expect(status.code).toBe(1);
    expect(status.json<StatusJson>().tenants.find((t) => t.id === 'u2')).toMatchObject({
      pending: [name],
      invalidIndexes: ['customers_name_uq'],
    });
    expect(status.json<StatusJson>().tenants.find((t) => t.id === 'u1')).toMatchObject({ pending: [], invalidIndexes: [] });
    const human = await f.cli(['migrate', 'status']);
    expect(human.stdout).toMatch(/u2 .*INVALID index customers_name_uq/);

    // The same build again with IF NOT EXISTS would skip the INVALID index and succeed; tenantctl drops it first.
    const second = await f.cli(['migrate', '--json']);
    expect(second.code).toBe(1);
    expect(second.json<MigrateJson>().tenants.find((t) => t.id === 'u2')).toMatchObject({ status: 'failed' });
    expect(await f.journal('u2', name)).toBe(0);

    await db.pool.query(`DELETE FROM uniq_u2.customers WHERE email = 'b'`);
    const fixed = await f.cli(['migrate', '--json']);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(fixed.json<MigrateJson>().tenants.find((t) => t.id === 'u2')).toMatchObject({
      status: 'migrated',
      applied: [name],
      repaired: ['customers_name_uq'],
    });
    expect(await f.index('uniq_u2', 'customers_name_uq')).toBe(true);
    expect(await f.journal('u2', name)).toBe(1);
    const clean = await f.cli(['migrate', 'status', '--check', '--json']);
    expect(clean.code).toBe(0);
    expect(clean.json<StatusJson>().tenants.map((t) => t.invalidIndexes)).toEqual([[], []]);
  });

  it('an index of an applied migration left INVALID by a failed rebuild by hand: status shows the tenant as needing work, migrate rebuilds it', async () => {
    const f = await fleet('hand', ['h1']);
    f.js(
      '1700000010000_email_uq',
      "  pgm.noTransaction();\n  pgm.createIndex('customers', 'email', { concurrently: true, unique: true, name: 'customers_email_uq' });",
    );
    expect((await f.cli(['migrate'])).code).toBe(0);
    await db.pool.query('DROP INDEX hand_h1.customers_email_uq');
    await db.pool.query(`INSERT INTO hand_h1.customers (tenant_id, name, email) VALUES ('h1', 'a', 'x'), ('h1', 'b', 'x')`);
    await expect(db.pool.query('CREATE UNIQUE INDEX CONCURRENTLY customers_email_uq ON hand_h1.customers (email)')).rejects.toThrow(
      /could not create unique index/,
    );
    await db.pool.query(`DELETE FROM hand_h1.customers WHERE name = 'b'`);
    expect(await f.index('hand_h1', 'customers_email_uq')).toBe(false);

    const status = await f.cli(['migrate', 'status', '--check', '--json']);
    expect(status.code).toBe(1);
    expect(status.json<StatusJson>().tenants[0]).toMatchObject({ pending: [], invalidIndexes: ['customers_email_uq'] });
    const r = await f.cli(['migrate', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<MigrateJson>().tenants[0]).toMatchObject({ id: 'h1', status: 'migrated', applied: [], repaired: ['customers_email_uq'] });
    expect(await f.index('hand_h1', 'customers_email_uq')).toBe(true);
    expect((await f.cli(['migrate', 'status', '--check'])).code).toBe(0);
  });

  it('REINDEX CONCURRENTLY: INVALID copies an interrupted one left are dropped before it runs again', async () => {
    const f = await fleet('reix', ['r1']);
    await db.pool.query('CREATE INDEX customers_name_ix ON reix_r1.customers (name)');
    // What a cut-off REINDEX CONCURRENTLY leaves: an INVALID <index>_ccnew.
    await db.pool.query(`INSERT INTO reix_r1.customers (tenant_id, name) VALUES ('r1', 'a'), ('r1', 'a')`);
    await expect(db.pool.query('CREATE UNIQUE INDEX CONCURRENTLY customers_name_ix_ccnew ON reix_r1.customers (name)')).rejects.toThrow();
    expect(await f.index('reix_r1', 'customers_name_ix_ccnew')).toBe(false);
    const status = await f.cli(['migrate', 'status', '--json']);
    expect(status.json<StatusJson>().tenants[0]!.invalidIndexes).toEqual([]);
    f.js('1700000010000_reindex', "  pgm.noTransaction();\n  pgm.sql('REINDEX INDEX CONCURRENTLY customers_name_ix');");
    const r = await f.cli(['migrate', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<MigrateJson>().tenants[0]).toMatchObject({ status: 'migrated', repaired: ['customers_name_ix_ccnew'] });
    const invalid = await db.pool.query(
      `SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'reix_r1' AND NOT i.indisvalid`,
    );
    expect(invalid.rows).toEqual([]);
    expect(await f.index('reix_r1', 'customers_name_ix')).toBe(true);
    expect(await f.journal('r1', '1700000010000_reindex')).toBe(1);
  });

  it('DETACH PARTITION CONCURRENTLY: a detach left pending is finalized', async () => {
    const f = await fleet('dtch', ['d1']);
    f.proj.add(
      '1700000010000_events',
      "-- Up Migration\nCREATE TABLE events (at date NOT NULL, what text) PARTITION BY RANGE (at);\nCREATE TABLE events_2020 PARTITION OF events FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');\n",
    );
    expect((await f.cli(['migrate'])).code).toBe(0);
    // A transaction that has seen the partitioned table makes the detach wait in its second phase; cancelling it then leaves it pending.
    const reader = new pg.Client({ connectionString: db.url });
    const detacher = new pg.Client({ connectionString: db.url });
    await reader.connect();
    await detacher.connect();
    await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    await reader.query('SELECT count(*) FROM dtch_d1.events');
    const detaching = detacher.query('ALTER TABLE dtch_d1.events DETACH PARTITION dtch_d1.events_2020 CONCURRENTLY').catch((e: Error) => e);
    const pid = (detacher as unknown as { processID: number }).processID;
    await until(
      async () => (await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`, [pid])).rowCount === 1,
    );
    await db.pool.query('SELECT pg_cancel_backend($1)', [pid]);
    expect(String(await detaching)).toMatch(/cancel/);
    await reader.query('COMMIT');
    await Promise.all([reader.end(), detacher.end()]);
    const pending = await db.pool.query(`SELECT inhdetachpending AS p FROM pg_inherits WHERE inhrelid = 'dtch_d1.events_2020'::regclass`);
    expect(pending.rows).toEqual([{ p: true }]);

    f.js('1700000011000_detach', "  pgm.noTransaction();\n  pgm.sql('ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY');");
    const r = await f.cli(['migrate', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<MigrateJson>().tenants[0]).toMatchObject({ status: 'migrated', repaired: ['events_2020'] });
    const left = await db.pool.query(`SELECT 1 FROM pg_inherits WHERE inhrelid = 'dtch_d1.events_2020'::regclass`);
    expect(left.rowCount).toBe(0);
    expect(await f.journal('d1', '1700000011000_detach')).toBe(1);
  });

  it('a tenant created after a non-transactional migration is made at the head in one transaction, and matches the migrated ones', async () => {
    const f = await fleet('newt', ['n1']);
    f.js(
      '1700000010000_idx',
      "  pgm.noTransaction();\n  pgm.createIndex('customers', 'email', { concurrently: true, name: 'customers_email_n' });",
    );
    expect((await f.cli(['migrate'])).code).toBe(0);
    const created = await f.cli(['tenant', 'create', 'n2', '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(await f.index('newt_n2', 'customers_email_n')).toBe(true);
    expect(await f.journal('n2', '1700000010000_idx')).toBe(1);
    const drift = await f.cli(['verify', '--check', 'drift', '--json']);
    expect(drift.code, drift.stdout).toBe(0);
    expect(drift.json<{ ok: boolean }>().ok).toBe(true);
  });

  it('several statements in one pgm.sql run one at a time outside a transaction, and inside the creation transaction of a new tenant', async () => {
    const f = await fleet('many', ['s1']);
    f.js(
      '1700000010000_two',
      '  pgm.noTransaction();\n  pgm.sql("CREATE INDEX CONCURRENTLY customers_name_two ON customers (name);\\nCREATE INDEX CONCURRENTLY customers_email_two ON customers (email) WHERE name <> \'CONCURRENTLY\'; -- built CONCURRENTLY");',
    );
    const r = await f.cli(['migrate', '--json']);
    expect(r.code, r.stdout).toBe(0);
    const created = await f.cli(['tenant', 'create', 's2']);
    expect(created.code, created.stderr).toBe(0);
    for (const schema of ['many_s1', 'many_s2']) {
      expect(await f.index(schema, 'customers_name_two')).toBe(true);
      expect(await f.index(schema, 'customers_email_two')).toBe(true);
    }
    const def = await db.pool.query(`SELECT pg_get_indexdef('many_s2.customers_email_two'::regclass) AS d`);
    expect(def.rows[0].d).toMatch(/WHERE \(name <> 'CONCURRENTLY'::text\)/);
  });

  it('migrate down reverts a non-transactional migration outside a transaction and removes it from the journal', async () => {
    const f = await fleet('down', ['w1']);
    f.js(
      '1700000010000_idx',
      "  pgm.noTransaction();\n  pgm.createIndex('customers', 'email', { concurrently: true, name: 'customers_email_w' });",
    );
    expect((await f.cli(['migrate'])).code).toBe(0);
    expect(await f.index('down_w1', 'customers_email_w')).toBe(true);
    const r = await f.cli(['migrate', 'down', '--tenant', 'w1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<MigrateJson>().tenants[0]).toMatchObject({ id: 'w1', status: 'reverted', applied: ['1700000010000_idx'] });
    expect(await f.index('down_w1', 'customers_email_w')).toBeUndefined();
    expect(await f.journal('w1', '1700000010000_idx')).toBe(0);
    const human = await f.cli(['migrate']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/migrated w1 \(1 migration\)/);
  });

  it("holds the tenant's lock for the whole step: a tenant another run holds is skipped (exit 3), or waited for with --wait", async () => {
    const f = await fleet('lock', ['l1', 'l2']);
    f.js(
      '1700000010000_idx',
      "  pgm.noTransaction();\n  pgm.createIndex('customers', 'email', { concurrently: true, name: 'customers_email_l' });",
    );
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query(`SELECT pg_advisory_lock(hashtext('tenantctl:' || $1::text), hashtext($2::text))`, [f.control, 'l2']);
    const skipped = await f.cli(['migrate', '--json']);
    expect(skipped.code).toBe(3);
    expect(skipped.json<MigrateJson>().tenants).toMatchObject([
      { id: 'l1', status: 'migrated' },
      { id: 'l2', status: 'skipped', reason: 'locked' },
    ]);
    expect(await f.index('lock_l2', 'customers_email_l')).toBeUndefined();
    const waiting = f.cli(['migrate', '--wait', '--json']);
    await until(
      async () =>
        (
          await db.pool.query(
            `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = 'tenantctl'`,
          )
        ).rowCount === 1,
    );
    await holder.query('SELECT pg_advisory_unlock_all()');
    const waited = await waiting;
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.json<MigrateJson>().tenants.find((t) => t.id === 'l2')).toMatchObject({ status: 'migrated' });
    await holder.end();
  });
});

/** Polls a condition until it holds, up to a deadline. */
async function until(check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached before the deadline');
    await sleep(10);
  }
}
