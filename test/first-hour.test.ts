import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openTenantctl, createTenants, type Tenantctl } from '../src/index.js';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { scratchProject } from './support/migrations.js';
import { snapshot } from './support/snapshot.js';

let db: TestDatabase;
const scratch: string[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function project(extra: Record<string, string> = {}) {
  const p = scratchProject(extra);
  scratch.push(p.dir);
  return p;
}

describe('misconfiguration is an error, not an empty success', () => {
  it('a tenantMigrations folder that does not exist is exit 2 naming the path and the key, before anything is made', async () => {
    const p = project();
    writeFileSync(join(p.dir, 'tenantctl.config.json'), JSON.stringify({ tenantMigrations: 'migrations/tenants' }));
    const cli = cliOn(db.url, { cwd: p.dir });
    const before = await snapshot(db.pool);
    for (const args of [['tenant', 'create', 'miss1'], ['migrate', 'status', '--check'], ['migrate']]) {
      const r = await cli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(join(p.dir, 'migrations/tenants'));
      expect(r.stderr).toContain('"tenantMigrations"');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(await snapshot(db.pool)).toBe(before);
  });

  it('a folder that exists but holds no migrations yet is fine: migrate says so and exits 0', async () => {
    const p = project();
    rmSync(p.tenant, { recursive: true });
    mkdirSync(p.tenant);
    const other = await createTestDatabase();
    try {
      const cli = cliOn(other.url, { cwd: p.dir });
      expect((await cli(['tenant', 'create', 'empty1'])).code).toBe(0);
      const r = await cli(['migrate']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/no tenant migrations in .* yet/);
      expect(r.stderr).not.toMatch(/undefined/);
    } finally {
      await other.drop();
    }
  });

  it('verify on a database tenantctl never initialised is exit 2, "run tenantctl init"', async () => {
    const fresh = await createTestDatabase();
    try {
      const r = await cliOn(fresh.url)(['verify']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/not initialised.*run tenantctl init/);
    } finally {
      await fresh.drop();
    }
  });
});

describe('migrate new needs no database', () => {
  it('writes the file with the server down (nothing listens on the URL)', async () => {
    const p = project();
    const r = await cliOn('postgresql://postgres@127.0.0.1:1/nowhere', { cwd: p.dir })(['migrate', 'new', 'add_notes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const path = r.json<{ path: string }>().path;
    expect(path.startsWith(p.tenant)).toBe(true);
    expect(existsSync(path)).toBe(true);
  });
});

describe('say what failed', () => {
  it('a failing tenant migration is named, with its line in the file, in human and JSON output', async () => {
    const p = project({ '1700000010000_bad_typo': '-- Up Migration\n\nINSERT INTO acounts (id)\n  VALUES (1);\n' });
    const other = await createTestDatabase();
    try {
      const cli = cliOn(other.url, { cwd: p.dir });
      const r = await cli(['tenant', 'create', 'typo1', '--json']);
      expect(r.code).toBe(1);
      const t = r.json<{ tenants: { id: string; status: string; error: string; migration: string }[] }>().tenants[0]!;
      expect(t).toMatchObject({ status: 'failed', migration: '1700000010000_bad_typo' });
      expect(t.error).toBe('1700000010000_bad_typo.sql (line 3): relation "acounts" does not exist');
      const human = await cli(['tenant', 'create', 'typo2']);
      expect(human.stdout).toContain('typo2: 1700000010000_bad_typo.sql (line 3): relation "acounts" does not exist');
    } finally {
      await other.drop();
    }
  });

  it('without a position from the server, the failing file of a batch is still named', async () => {
    const p = project({
      '1700000010000_ok_one': 'CREATE TABLE fine_one (id int);',
      '1700000011000_div_zero': 'SELECT 1 / 0;',
      '1700000012000_ok_two': 'CREATE TABLE fine_two (id int);',
    });
    const other = await createTestDatabase();
    try {
      const cli = cliOn(other.url, { cwd: p.dir });
      const r = await cli(['tenant', 'create', 'zero1', '--json']);
      const t = r.json<{ tenants: { error: string; migration: string }[] }>().tenants[0]!;
      expect(t.migration).toBe('1700000011000_div_zero');
      expect(t.error).toMatch(/^1700000011000_div_zero\.sql: division by zero/);
    } finally {
      await other.drop();
    }
  });

  it('a failing shared migration is named', async () => {
    const p = project();
    writeFileSync(join(p.shared, '1700000000500_bad_shared.sql'), '-- Up Migration\nCREATE TABLE plans (id int);\n');
    const other = await createTestDatabase();
    try {
      const r = await cliOn(other.url, { cwd: p.dir })(['init']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/shared migration failed in .*1700000000500_bad_shared.*relation "plans" already exists/);
    } finally {
      await other.drop();
    }
  });

  it("keeps commander's suggestion, on one line", async () => {
    const r = await cliOn(db.url)(['migrate', '--concurency', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown option '--concurency'.*\(Did you mean --concurrency\?\)/);
  });

  it('a failed copy goes to stderr, its JSON to stdout', async () => {
    const cli = cliOn(db.url);
    expect((await cli(['tenant', 'create', 'cpa', 'cpb'])).code).toBe(0);
    await cli(['exec', '--tenant', 'cpa', '-c', "INSERT INTO customers (id, name) OVERRIDING SYSTEM VALUE VALUES (1, 'a')"]);
    await cli(['exec', '--tenant', 'cpb', '-c', "INSERT INTO customers (id, name) OVERRIDING SYSTEM VALUE VALUES (1, 'b')"]);
    const r = await cli(['copy', '--from', 'cpa', '--to', 'cpb']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: cpa -> cpb: /);
  });
});

describe('truthful and safe', () => {
  it('exec refuses transaction control and role changes, and changes nothing', async () => {
    const cli = cliOn(db.url);
    expect((await cli(['tenant', 'create', 'ex1'])).code).toBe(0);
    const before = await snapshot(db.pool);
    for (const sql of [
      "INSERT INTO customers (name) VALUES ('x'); COMMIT; CREATE TABLE public.escaped (id int)",
      'RESET ROLE; SELECT 1',
      'SET SESSION AUTHORIZATION postgres',
    ]) {
      const r = await cli(['exec', '--tenant', 'ex1', '-c', sql]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/is not allowed in exec/);
    }
    // What the lexer cannot see is caught before COMMIT.
    const sneaky = await cli([
      'exec',
      '--tenant',
      'ex1',
      '-c',
      "INSERT INTO customers (name) VALUES ('y'); SELECT set_config('role', 'none', true)",
    ]);
    expect(sneaky.code).toBe(2);
    expect(sneaky.stderr).toMatch(/changed the role .* rolled back/);
    expect(await snapshot(db.pool)).toBe(before);
    const rows = await db.pool.query('SELECT count(*)::int AS n FROM tenant_ex1.customers');
    expect(rows.rows[0].n).toBe(0);
  });

  it('migrate(tc, { concurrency: 8 }) runs 8 at once, whatever the pool was opened for', async () => {
    const p = project({ '1700000010000_wait_gate': 'SELECT pg_advisory_xact_lock_shared(4242);' });
    const other = await createTestDatabase();
    let tc: Tenantctl | undefined;
    const gate = new pg.Client({ connectionString: other.url });
    try {
      tc = await openTenantctl({ databaseUrl: other.url, cwd: p.dir, readConfigFile: false, config: { concurrency: 1 } });
      const ids = Array.from({ length: 8 }, (_, i) => `conc${i}`);
      // Created at migration 9, so the gate migration is pending for all eight.
      const base = await openTenantctl({ databaseUrl: other.url, cwd: p.dir, readConfigFile: false });
      rmSync(join(p.tenant, '1700000010000_wait_gate.sql'));
      const created = await createTenants(base, { ids });
      await base.close();
      expect(created.summary.failed).toBe(0);
      writeFileSync(join(p.tenant, '1700000010000_wait_gate.sql'), '-- Up Migration\nSELECT pg_advisory_xact_lock_shared(4242);\n');
      await gate.connect();
      await gate.query('SELECT pg_advisory_lock(4242)');
      const run = migrate(tc, { concurrency: 8 });
      const deadline = Date.now() + 60_000;
      let waiting = 0;
      while (Date.now() < deadline) {
        const r = await gate.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND NOT granted",
        );
        waiting = r.rows[0]!.n;
        if (waiting >= 8) break;
        await new Promise((done) => setImmediate(done));
      }
      await gate.query('SELECT pg_advisory_unlock(4242)');
      const result = await run;
      expect(waiting).toBe(8);
      expect(result.summary).toMatchObject({ migrated: 8, failed: 0 });
    } finally {
      await gate.end().catch(() => undefined);
      await tc?.close();
      await other.drop();
    }
  });

  it('verify --junit reports/verify.xml makes the folder', async () => {
    const p = project();
    const cli = cliOn(db.url, { cwd: p.dir });
    const r = await cli(['verify', '--check', 'registry', '--junit', 'reports/ci/verify.xml']);
    expect(r.code, r.stderr).toBeLessThan(2);
    expect(existsSync(join(p.dir, 'reports/ci/verify.xml'))).toBe(true);
    expect(readFileSync(join(p.dir, 'reports/ci/verify.xml'), 'utf8')).toMatch(/^<\?xml/);
  });

  it('tables line up when cells are coloured', async () => {
    const r = await cliOn(db.url)(['verify', '--check', 'registry'], { env: { NO_COLOR: '', FORCE_COLOR: '1' } });
    const plain = r.stdout
      .split('\n')
      .map((l) => stripVTControlCharacters(l))
      .filter((l) => /^(CHECK|registry)\b/.test(l));
    expect(r.stdout).toContain('\u001b[');
    expect(plain[0]!.indexOf('RESULT')).toBe(plain[1]!.indexOf(plain[1]!.includes('ok') ? 'ok' : 'FAILED'));
  });
});
