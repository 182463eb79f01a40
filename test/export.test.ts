import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TENANT_LOCK_KEYS_PARAMS } from '../src/db/locks.js';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { scratchProject } from './support/migrations.js';
import { snapshot } from './support/snapshot.js';

let db: TestDatabase;
let other: TestDatabase;
let cli: ReturnType<typeof cliOn>;
const scratch = mkdtempSync(join(tmpdir(), 'tenantctl-export-'));
let native: string;

/** The rows of a tenant's tables as JSON, without the ownership column, sorted: what must survive a round trip. */
async function rowsOf(pool: TestDatabase['pool'], schema: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of ['customers', 'projects', 'tasks', 'invoices']) {
    const r = await pool.query(`SELECT (to_jsonb(t) - 'tenant_id')::text AS j FROM "${schema}"."${table}" t ORDER BY 1`);
    out[table] = r.rows.map((row) => row.j as string);
  }
  return out;
}

const owners = async (pool: TestDatabase['pool'], schema: string) =>
  (
    await pool.query(
      `SELECT DISTINCT tenant_id FROM (SELECT tenant_id FROM "${schema}".customers UNION ALL SELECT tenant_id FROM "${schema}".projects UNION ALL SELECT tenant_id FROM "${schema}".tasks UNION ALL SELECT tenant_id FROM "${schema}".invoices) x ORDER BY 1`,
    )
  ).rows.map((r) => r.tenant_id);

/** Every index and constraint of a schema by its definition, the schema's name taken out. */
async function structure(schema: string): Promise<string[]> {
  const r = await db.pool.query(
    `SELECT c.relname || ': ' || pg_get_indexdef(i.indexrelid) AS d FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace = $1::regnamespace
     UNION ALL SELECT conrelid::regclass::text || ' ' || conname || ': ' || pg_get_constraintdef(oid) || ' ' || convalidated FROM pg_constraint WHERE connamespace = $1::regnamespace`,
    [schema],
  );
  return r.rows.map((row) => (row.d as string).split(schema).join('S')).sort();
}

beforeAll(async () => {
  [db, other] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  cli = cliOn(db.url);
  expect((await cli(['tenant', 'create', 'src', '--name', 'Source Co', '--set', 'tier=gold'])).code).toBe(0);
  const seed = await cli([
    'exec',
    '--tenant',
    'src',
    '-c',
    `INSERT INTO customers (name, email) SELECT 'c' || g || E'\\t\\\\ tab, "quote"\\nline ✓', CASE WHEN g % 3 = 0 THEN NULL ELSE 'c' || g || '@x' END FROM generate_series(1, 40) g;
     INSERT INTO projects (customer_id, name) SELECT id, 'p' || id FROM customers;
     INSERT INTO tasks (project_id, title, due_date) SELECT id, 't' || id, CASE WHEN id % 2 = 0 THEN date '2026-01-01' + id END FROM projects;
     INSERT INTO invoices (customer_id, amount_cents, status) SELECT id, id * 100, 'sent' FROM customers WHERE id <= 25;
     DELETE FROM customers WHERE id = 40`,
  ]);
  expect(seed.code, seed.stderr).toBe(0);
  native = join(scratch, 'native');
  const r = await cli(['tenant', 'export', 'src', '--out', native, '--json']);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(async () => {
  await Promise.all([db.drop(), other.drop()]);
  rmSync(scratch, { recursive: true, force: true });
});

describe('tenant export', () => {
  it('writes a manifest (registry entry, config, journal, structure, counts, checksums, sequences) and a COPY file per table', () => {
    const m = JSON.parse(readFileSync(join(native, 'manifest.json'), 'utf8'));
    expect(m).toMatchObject({ format: 'tenantctl-export', formatVersion: 1, dataFormat: 'native', ownershipColumn: 'tenant_id' });
    expect(m.tenant).toMatchObject({ id: 'src', key: 'src', name: 'Source Co', config: { tier: 'gold' }, schema: 'tenant_src' });
    expect(m.migrations.map((x: { name: string }) => x.name)).toEqual(
      readdirSync('migrations/tenant')
        .map((f) => f.replace(/\.(js|sql)$/, ''))
        .sort(),
    );
    const counts = Object.fromEntries(m.tables.map((t: { name: string; rows: number }) => [t.name, t.rows]));
    expect(counts).toEqual({ customers: 39, projects: 39, tasks: 39, invoices: 25 });
    expect(m.rows).toBe(142);
    const customers = m.tables.find((t: { name: string }) => t.name === 'customers');
    expect(customers.columns.map((c: { name: string; type: string }) => `${c.name} ${c.type}`)).toContain('id bigint');
    expect(readFileSync(join(native, customers.file), 'utf8').split('\n')).toHaveLength(40);
    const seqs = Object.fromEntries(m.sequences.map((s: { name: string; lastValue: string }) => [s.name, s.lastValue]));
    expect(seqs).toMatchObject({ customers_id_seq: '40', invoice_number_seq: '1024' });
  });

  it('writes csv with a header and jsonl with one object per row, for people and other tools', async () => {
    const csv = join(scratch, 'csv');
    const jsonl = join(scratch, 'jsonl');
    expect((await cli(['tenant', 'export', 'src', '--out', csv, '--format', 'csv'])).code).toBe(0);
    expect((await cli(['tenant', 'export', 'src', '--out', jsonl, '--format', 'jsonl'])).code).toBe(0);
    const m = JSON.parse(readFileSync(join(csv, 'manifest.json'), 'utf8'));
    const file = m.tables.find((t: { name: string }) => t.name === 'invoices').file as string;
    const lines = readFileSync(join(csv, file), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('id,tenant_id,customer_id,number,amount_cents,status,issued_at');
    expect(lines).toHaveLength(26);
    const jm = JSON.parse(readFileSync(join(jsonl, 'manifest.json'), 'utf8'));
    const cfile = jm.tables.find((t: { name: string }) => t.name === 'customers').file as string;
    const objects = readFileSync(join(jsonl, cfile), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(objects).toHaveLength(39);
    expect(objects.find((o) => o.id === 1)).toMatchObject({ tenant_id: 'src', name: 'c1\t\\ tab, "quote"\nline ✓', email: 'c1@x' });
    expect(objects.find((o) => o.id === 3).email).toBeNull();
    // Not for import: exit 2, and it says why.
    const r = await cli(['tenant', 'import', jsonl, '--as', 'fromjsonl']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exported with --format jsonl/);
  });

  it('does not snapshot a tenant another run is working on: exit 3, retry later, nothing written', async () => {
    const holder = await db.pool.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(${TENANT_LOCK_KEYS_PARAMS})`, ['tenantctl', 'src']);
      const r = await cli(['tenant', 'export', 'src', '--out', join(scratch, 'locked'), '--json']);
      expect(r.code).toBe(3);
      expect(r.json<{ error: { code: string } }>().error.code).toBe('tenant_locked');
    } finally {
      await holder.query('SELECT pg_advisory_unlock_all()');
      holder.release();
    }
    expect(readdirSync(scratch).filter((f) => f.startsWith('locked'))).toEqual([]);
  });

  it('refuses an output path that exists, an unknown tenant and a bad format (exit 2)', async () => {
    expect((await cli(['tenant', 'export', 'src', '--out', native])).stderr).toMatch(/already exists/);
    expect((await cli(['tenant', 'export', 'nobody', '--out', join(scratch, 'x')])).code).toBe(2);
    expect((await cli(['tenant', 'export', 'src', '--out', join(scratch, 'y'), '--format', 'xml'])).code).toBe(2);
    expect(readdirSync(scratch).filter((f) => f.includes('partial'))).toEqual([]);
  });
});

describe('tenant import', () => {
  it('makes the tenant at the head with every row under the new key, sequences past the imported values; verify is clean', async () => {
    const r = await cli(['tenant', 'import', native, '--as', 'dst', '--key', 'K-dst', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ tenant: 'dst', schema: 'tenant_dst', key: 'K-dst', rows: 142, applied: [] });
    expect(await rowsOf(db.pool, 'tenant_dst')).toEqual(await rowsOf(db.pool, 'tenant_src'));
    expect(await owners(db.pool, 'tenant_dst')).toEqual(['K-dst']);
    // Foreign keys and indexes are made again after the rows: the same as the migrations make them.
    expect(await structure('tenant_dst')).toEqual(await structure('tenant_src'));
    const show = (await cli(['tenant', 'show', 'dst', '--json'])).json<{
      tenant: { name: string; key: string; config: Record<string, string>; pending: number };
    }>();
    expect(show.tenant).toMatchObject({ name: 'Source Co', key: 'K-dst', config: { tier: 'gold' }, pending: 0 });
    const next = await cli([
      'exec',
      '--tenant',
      'dst',
      '--json',
      '-c',
      "INSERT INTO customers (name) VALUES ('new') RETURNING id; INSERT INTO invoices (customer_id, amount_cents) VALUES (1, 5) RETURNING number",
    ]);
    expect(next.code, next.stderr).toBe(0);
    const results = next.json<{ results: { rows: Record<string, string>[] }[] }>().results;
    expect(results[0]!.rows[0]!.id).toBe('41');
    expect(results[1]!.rows[0]!.number).toBe('1025');
    const verify = await cli(['verify', '--tenant', 'dst', '--json']);
    expect(verify.code, verify.stdout).toBe(0);
    // The source is untouched.
    expect(await owners(db.pool, 'tenant_src')).toEqual(['src']);
  });

  it('imports into another database (another environment) the same way', async () => {
    const there = cliOn(other.url);
    const r = await there(['tenant', 'import', native, '--as', 'src']);
    expect(r.code, r.stderr).toBe(0);
    expect(await rowsOf(other.pool, 'tenant_src')).toEqual(await rowsOf(db.pool, 'tenant_src'));
    expect(await owners(other.pool, 'tenant_src')).toEqual(['src']);
    expect((await there(['verify', '--tenant', 'src'])).code).toBe(0);
  });

  it("rebuilds at the export's version, loads the rows, then applies the migrations after it", async () => {
    const proj = scratchProject();
    proj.add(
      '1700000010000_customer_note',
      "ALTER TABLE customers ADD COLUMN note text NOT NULL DEFAULT 'none';\nUPDATE customers SET note = 'had ' || length(name)",
    );
    const later = cliOn(db.url, { cwd: proj.dir });
    const r = await later(['tenant', 'import', native, '--as', 'newer', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<{ applied: string[] }>().applied).toEqual(['1700000010000_customer_note']);
    const notes = await db.pool.query(`SELECT count(*)::int AS n FROM tenant_newer.customers WHERE note LIKE 'had %'`);
    expect(notes.rows[0].n).toBe(39);
    expect(
      (await later(['migrate', 'status', '--tenant', 'newer', '--json'])).json<{ tenants: { pending: string[] }[] }>().tenants[0]!.pending,
    ).toEqual([]);
    expect((await later(['verify', '--tenant', 'newer'])).code).toBe(0);
  });

  it('refuses, changing nothing (exit 2): an existing id, a missing or changed migration, a damaged or cut data file', async () => {
    const before = await snapshot(db.pool);
    const exists = await cli(['tenant', 'import', native, '--as', 'src']);
    expect(exists.code).toBe(2);
    expect(exists.stderr).toMatch(/tenant "src" already exists/);

    const missing = scratchProject();
    rmSync(join(missing.tenant, '1700000004000_create_invoices.js'));
    const m = await cliOn(db.url, { cwd: missing.dir })(['tenant', 'import', native, '--as', 'nomig', '--json']);
    expect(m.code).toBe(2);
    expect(m.json<{ error: { code: string; message: string } }>().error).toMatchObject({
      code: 'migration_missing',
      message: expect.stringMatching(/1700000004000_create_invoices/),
    });

    const changed = scratchProject();
    writeFileSync(
      join(changed.tenant, '1700000002000_create_projects.sql'),
      readFileSync(join(changed.tenant, '1700000002000_create_projects.sql'), 'utf8') + '\n-- edited\n',
    );
    const c = await cliOn(db.url, { cwd: changed.dir })(['tenant', 'import', native, '--as', 'chg', '--json']);
    expect(c.code).toBe(2);
    expect(c.json<{ error: { code: string } }>().error.code).toBe('migration_changed');

    // Same size, one byte changed: caught by the checksum while loading, and the whole import is rolled back.
    const damaged = join(scratch, 'damaged');
    await copyFolder(native, damaged);
    const manifest = JSON.parse(readFileSync(join(damaged, 'manifest.json'), 'utf8'));
    const tasks = join(damaged, manifest.tables.find((t: { name: string }) => t.name === 'tasks').file);
    writeFileSync(tasks, readFileSync(tasks, 'utf8').replace('t1\t', 't9\t'));
    const d = await cli(['tenant', 'import', damaged, '--as', 'dmg', '--json']);
    expect(d.code).toBe(2);
    expect(d.json<{ error: { code: string } }>().error.code).toBe('export_corrupt');

    const elsewhere = join(scratch, 'elsewhere');
    await copyFolder(native, elsewhere);
    const forged = JSON.parse(readFileSync(join(elsewhere, 'manifest.json'), 'utf8'));
    forged.tables[0].file = '../../native/manifest.json';
    writeFileSync(join(elsewhere, 'manifest.json'), JSON.stringify(forged));
    const away = await cli(['tenant', 'import', elsewhere, '--as', 'away', '--json']);
    expect(away.code).toBe(2);
    expect(away.json<{ error: { code: string } }>().error.code).toBe('export_invalid');

    writeFileSync(tasks, readFileSync(tasks, 'utf8').slice(0, 100));
    const cut = await cli(['tenant', 'import', damaged, '--as', 'cut']);
    expect(cut.code).toBe(2);
    expect(cut.stderr).toMatch(/holds 100 bytes/);
    expect(await snapshot(db.pool)).toBe(before);
  });
});

describe('tenant import of rows that break a key made again after the rows', () => {
  /** A copy of the native export with one table's file edited and the manifest made to agree, as a careful forger would. */
  async function forged(name: string, table: string, edit: (text: string) => string, extraRows = 0): Promise<string> {
    const edited = join(scratch, name);
    await copyFolder(native, edited);
    const manifest = JSON.parse(readFileSync(join(edited, 'manifest.json'), 'utf8'));
    const entry = manifest.tables.find((t: { name: string }) => t.name === table);
    const file = join(edited, entry.file);
    const text = edit(readFileSync(file, 'utf8'));
    writeFileSync(file, text);
    entry.rows += extraRows;
    entry.bytes = Buffer.byteLength(text);
    entry.sha256 = createHash('sha256').update(text).digest('hex');
    writeFileSync(join(edited, 'manifest.json'), JSON.stringify(manifest));
    return edited;
  }

  it.each([
    // The first task points at a project that does not exist.
    ['orphan', 'a foreign key', 'tasks', (text: string) => text.replace(/^(\d+\tsrc\t)\d+\t/, '$199999\t'), 0, /foreign key/],
    // The first customer's line twice.
    ['twice', 'a primary key', 'customers', (text: string) => `${text.split('\n')[0]}\n${text}`, 1, /customers_pkey/],
  ])('%s: rows that break %s fail the import (exit 1) and leave nothing behind', async (id, _what, table, edit, extraRows, message) => {
    const before = await snapshot(db.pool);
    const edited = await forged(id, table, edit, extraRows);
    const r = await cli(['tenant', 'import', edited, '--as', id, '--json']);
    expect(r.code, r.stdout).toBe(1);
    expect(r.json<{ error: { message: string } }>().error.message).toMatch(message);
    expect(await snapshot(db.pool)).toBe(before);
  });
});

async function copyFolder(from: string, to: string): Promise<void> {
  const { cpSync } = await import('node:fs');
  cpSync(from, to, { recursive: true });
}
