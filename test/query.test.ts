import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, REPO, cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { scratchDir } from './support/scratch.js';

let db: TestDatabase;
let cli: ReturnType<typeof cliOn>;
const ids = ['q1', 'q2', 'q3', 'q4'];

beforeAll(async () => {
  db = await createTestDatabase();
  cli = cliOn(db.url);
  expect((await cli(['tenant', 'create', ...ids, 'qsusp'])).code).toBe(0);
  for (const id of [...ids, 'qsusp']) {
    const r = await cli([
      'exec',
      '--tenant',
      id,
      '-c',
      `INSERT INTO customers (name, email) SELECT '${id}-' || g, CASE WHEN g = 1 THEN 'a,"b"' END FROM generate_series(1, 3) g`,
    ]);
    expect(r.code, r.stderr).toBe(0);
  }
  expect((await cli(['tenant', 'update', 'qsusp', '--status', 'suspended'])).code).toBe(0);
});
afterAll(async () => {
  await db.drop();
});

/** Parses simple CSV (quoted fields with "" escapes), enough for these assertions. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  return rows;
}

describe('query across the fleet', () => {
  it.each([
    ['one message per tenant', []],
    ['tenants batched in messages (--concurrency 1)', ['--concurrency', '1']],
  ])('runs as each active tenant (its schema, its role, its key) and gives one CSV result set, tenant first: %s', async (_how, extra) => {
    const r = await cli([
      'query',
      ...extra,
      '--format',
      'csv',
      '-c',
      `SELECT name, email, current_user AS who, current_setting('tenantctl.tenant_key') AS key FROM customers ORDER BY id`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [header, ...rows] = parseCsv(r.stdout);
    expect(header).toEqual(['tenant', 'name', 'email', 'who', 'key']);
    expect(rows).toHaveLength(ids.length * 3);
    for (const id of ids) {
      const mine = rows.filter((row) => row[0] === id);
      expect(mine.map((row) => row[1])).toEqual([`${id}-1`, `${id}-2`, `${id}-3`]);
      expect(mine[0]![2]).toBe('a,"b"');
      expect(mine.every((row) => row[3]!.endsWith(`_${id}`) && row[4] === id)).toBe(true);
    }
    // The suspended tenant is not among "every active tenant".
    expect(rows.some((row) => row[0] === 'qsusp')).toBe(false);
    // NULL is an empty field; stdout holds the data only.
    expect(r.stdout).toContain(`q1,q1-2,,`);
  });

  it("a statement that changes the role, or fails in one tenant of a batch, is that tenant's error; the others answer", async () => {
    await db.pool.query('ALTER TABLE tenant_q2.customers RENAME COLUMN email TO mail');
    try {
      const r = await cli(['query', '--concurrency', '1', '--json', '-c', 'SELECT name, email FROM customers']);
      expect(r.code).toBe(1);
      const body = r.json<{ rows: { tenant: string }[]; errors: { tenant: string; message: string }[] }>();
      expect(body.errors).toEqual([{ tenant: 'q2', message: expect.stringMatching(/column "email" does not exist/) }]);
      expect(body.rows.map((row) => row.tenant)).toEqual(['q1', 'q1', 'q1', 'q3', 'q3', 'q3', 'q4', 'q4', 'q4']);
    } finally {
      await db.pool.query('ALTER TABLE tenant_q2.customers RENAME COLUMN mail TO email');
    }
    const role = await cli(['query', '--concurrency', '1', '--json', '-c', "SELECT set_config('role', 'none', true) AS r"]);
    expect(role.code).toBe(1);
    const errors = role.json<{ errors: { tenant: string; message: string }[] }>().errors;
    expect(errors.map((e) => e.tenant)).toEqual(ids);
    expect(errors.every((e) => /changed the role/.test(e.message))).toBe(true);
  });

  it('one worker keeps its connection from batch to batch: every tenant answers from the same backend', async () => {
    // --concurrency 1 over four tenants is two batches on one worker; a session the reset left clean is kept.
    const r = await cli(['query', '--concurrency', '1', '--json', '-c', 'SELECT pg_backend_pid() AS pid']);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.json<{ rows: { tenant: string; pid: number }[] }>().rows;
    expect(rows.map((row) => row.tenant)).toEqual(ids);
    expect(new Set(rows.map((row) => row.pid)).size).toBe(1);
  });

  it('gives one JSON document with --json and one object per line with --format json', async () => {
    const doc = await cli([
      'query',
      '--json',
      '--tenant',
      'q2',
      '--tenant',
      'qsusp',
      '-c',
      'SELECT count(*)::int AS n, 1.5::numeric AS x, NULL::text AS nothing FROM customers',
    ]);
    expect(doc.code, doc.stderr).toBe(0);
    const body = doc.json<{ version: number; columns: string[]; rows: Record<string, unknown>[]; errors: unknown[] }>();
    expect(body.version).toBe(1);
    expect(body.columns).toEqual(['tenant', 'n', 'x', 'nothing']);
    expect(body.rows.sort((a, b) => String(a.tenant).localeCompare(String(b.tenant)))).toEqual([
      { tenant: 'q2', n: 3, x: '1.5', nothing: null },
      { tenant: 'qsusp', n: 3, x: '1.5', nothing: null },
    ]);
    expect(body.errors).toEqual([]);
    const lines = await cli(['query', '--format', 'json', '--tenant', 'q1,q3', '-c', 'SELECT id FROM customers WHERE id = 1']);
    expect(lines.code, lines.stderr).toBe(0);
    const parsed = lines.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.sort((a, b) => String(a.tenant).localeCompare(String(b.tenant)))).toEqual([
      { tenant: 'q1', id: '1' },
      { tenant: 'q3', id: '1' },
    ]);
  });

  it('reports a tenant whose query fails with its error, and the rest go on (exit 1)', async () => {
    await db.pool.query('ALTER TABLE tenant_q3.customers RENAME COLUMN email TO mail');
    try {
      const r = await cli(['query', '--json', '-c', 'SELECT name, email FROM customers']);
      expect(r.code).toBe(1);
      const body = r.json<{ rows: { tenant: string }[]; errors: { tenant: string; message: string }[] }>();
      expect(body.errors).toEqual([{ tenant: 'q3', message: expect.stringMatching(/column "email" does not exist/) }]);
      expect(new Set(body.rows.map((row) => row.tenant))).toEqual(new Set(['q1', 'q2', 'q4']));
      expect(body.rows).toHaveLength(9);
      // A tenant whose columns differ from the others' is an error too, not a ragged result set.
      // One at a time, so that q1 answers first and its columns are the result set's.
      const star = await cli(['query', '--concurrency', '1', '--format', 'csv', '-c', 'SELECT * FROM customers ORDER BY id']);
      expect(star.code).toBe(1);
      expect(star.stderr).toMatch(/error: tenant "q3": its columns \(.*mail.*\) differ from the other tenants'/);
      const header = parseCsv(star.stdout)[0]!;
      expect(header.slice(0, 4)).toEqual(['tenant', 'id', 'tenant_id', 'name']);
      expect(parseCsv(star.stdout)).toHaveLength(1 + 9);
    } finally {
      await db.pool.query('ALTER TABLE tenant_q3.customers RENAME COLUMN mail TO email');
    }
  });

  it('refuses writes: the transaction is read only, and nothing changes', async () => {
    const before = (await db.pool.query('SELECT count(*)::int AS n FROM tenant_q1.customers')).rows[0].n;
    for (const sql of [
      "INSERT INTO customers (name) VALUES ('sneaky')",
      "SELECT nextval('invoice_number_seq')",
      'CREATE TABLE sneaky (x int)',
    ]) {
      const r = await cli(['query', '--json', '--tenant', 'q1', '-c', sql]);
      expect(r.code, sql).toBe(1);
      expect(r.json<{ errors: { message: string }[] }>().errors[0]!.message).toMatch(/read-only transaction/);
    }
    expect((await db.pool.query('SELECT count(*)::int AS n FROM tenant_q1.customers')).rows[0].n).toBe(before);
    expect((await db.pool.query(`SELECT to_regclass('tenant_q1.sneaky') AS t`)).rows[0].t).toBeNull();
    const role = await cli(['query', '--tenant', 'q1', '-c', "SELECT set_config('role', 'none', true)"]);
    expect(role.code).toBe(1);
    expect(role.stderr).toMatch(/changed the role/);
  });

  it('refuses bad input before connecting (exit 2)', async () => {
    const dir = scratchDir('query');
    writeFileSync(join(dir, 'two.sql'), 'SELECT 1;\nSELECT 2;\n');
    const down = cliOn('postgresql://postgres@127.0.0.1:1/nowhere');
    const cases: [string[], RegExp][] = [
      [['query', '-c', 'COMMIT'], /COMMIT is not allowed in query/],
      [['query', '-c', 'SELECT 1; SET ROLE postgres'], /SET ROLE is not allowed in query/],
      [['query', '-f', join(dir, 'two.sql')], /holds 2 statements \(line 2 starts the second\)/],
      [['query', '-c', 'SELECT 1', '--format', 'xml'], /--format must be one of table, csv, json/],
      [['query', '-c', 'SELECT 1', '--tenant', 'Bad!'], /invalid tenant id/],
      [['query'], /exactly one of -c SQL or -f FILE/],
    ];
    for (const [args, message] of cases) {
      const r = await down(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const unknown = await cli(['query', '--tenant', 'nobody', '-c', 'SELECT 1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown tenant "nobody"/);
  });

  it("a column named like another, or tenant, is that tenant's error", async () => {
    const r = await cli(['query', '--tenant', 'q1', '-c', 'SELECT 1 AS a, 2 AS a']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/two columns named "a"/);
    const t = await cli(['query', '--tenant', 'q1', '-c', 'SELECT 1 AS tenant']);
    expect(t.stderr).toMatch(/column named "tenant"/);
  });

  it('streams: rows of finished tenants are on stdout while another tenant still runs', async () => {
    // Hold q4's table so its query waits; the others must reach stdout meanwhile.
    const blocker = await db.pool.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE tenant_q4.customers IN ACCESS EXCLUSIVE MODE');
    const child = spawn(
      process.execPath,
      [BIN, '--database-url', db.url, 'query', '--format', 'csv', '--concurrency', '2', '-c', 'SELECT name FROM customers'],
      {
        cwd: REPO,
        env: { ...process.env, NO_COLOR: '1' },
      },
    );
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      const deadline = Date.now() + 30_000;
      const seen = () => ['q1', 'q2', 'q3'].every((id) => stdout.includes(`${id},${id}-3`));
      const waiting = async () =>
        (
          await db.pool.query(
            `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE NOT l.granted AND c.relname = 'customers'`,
          )
        ).rows[0].n > 0;
      while (!(seen() && (await waiting()))) {
        expect(Date.now(), `stdout so far: ${stdout}`).toBeLessThan(deadline);
        await new Promise((r) => setImmediate(r));
      }
      expect(stdout).not.toContain('q4,');
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    expect(await closed).toBe(0);
    expect(stdout).toContain('q4,q4-3');
  });

  it('a reader that goes away (`| head`) ends nothing early and reports no error: the run finishes, exit 0', async () => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        '--database-url',
        db.url,
        'query',
        '--format',
        'csv',
        '--concurrency',
        '1',
        '-c',
        'SELECT g, repeat($$x$$, 100) AS pad FROM generate_series(1, 5000) g',
      ],
      { cwd: REPO, env: { ...process.env, NO_COLOR: '1' } },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    // Read the first chunk, then close the pipe, as `head -1` does.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    expect(await closed, stderr).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|error/);
  });
});
