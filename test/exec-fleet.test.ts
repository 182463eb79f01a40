import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';

let db: TestDatabase;
let cli: ReturnType<typeof cliOn>;
const ids = ['e1', 'e2', 'e3', 'e4'];

interface Fleet {
  tenants: {
    id: string;
    status: string;
    results?: { command: string; rowCount: number; rows: Record<string, unknown>[] }[];
    error?: string;
    reason?: string;
  }[];
  summary: { done: number; failed: number; skipped: number };
  stoppedBecause?: string;
}

const count = async (id: string, where = 'true') =>
  (await db.pool.query(`SELECT count(*)::int AS n FROM "tenant_${id}".customers WHERE ${where}`)).rows[0].n as number;

beforeAll(async () => {
  db = await createTestDatabase();
  cli = cliOn(db.url);
  expect((await cli(['tenant', 'create', ...ids, 'esusp'])).code).toBe(0);
  expect((await cli(['tenant', 'update', 'esusp', '--status', 'suspended'])).code).toBe(0);
});
afterAll(async () => {
  await db.drop();
});

/** Makes e2's customers table lack the email column, so SQL naming it fails there only. */
async function breakE2<T>(fn: () => Promise<T>): Promise<T> {
  await db.pool.query('ALTER TABLE tenant_e2.customers RENAME COLUMN email TO mail');
  try {
    return await fn();
  } finally {
    await db.pool.query('ALTER TABLE tenant_e2.customers RENAME COLUMN mail TO email');
  }
}

describe('exec on several tenants', () => {
  it('--all writes as each active tenant, one transaction each, and gives a result per tenant', async () => {
    const r = await cli([
      'exec',
      '--all',
      '--json',
      '-c',
      "INSERT INTO customers (name) VALUES ('all'); SELECT tenant_id, current_user AS who FROM customers WHERE name = 'all'",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const body = r.json<Fleet>();
    expect(body.summary).toEqual({ done: 4, failed: 0, skipped: 0 });
    expect(body.tenants.map((t) => t.id)).toEqual(ids);
    for (const t of body.tenants) {
      expect(t.status).toBe('done');
      expect(t.results!.map((x) => x.command)).toEqual(['INSERT', 'SELECT']);
      expect(t.results![1]!.rows).toEqual([{ tenant_id: t.id, who: expect.stringMatching(new RegExp(`_${t.id}$`)) }]);
      expect(await count(t.id, "name = 'all'")).toBe(1);
    }
    expect(await count('esusp', "name = 'all'")).toBe(0);
    // Named tenants may be suspended, as with exec on one tenant.
    const named = await cli([
      'exec',
      '--tenant',
      'esusp',
      '--tenant',
      'e1',
      '--json',
      '-c',
      "INSERT INTO customers (name) VALUES ('named')",
    ]);
    expect(named.code, named.stderr).toBe(0);
    expect(named.json<Fleet>().tenants.map((t) => [t.id, t.status])).toEqual([
      ['e1', 'done'],
      ['esusp', 'done'],
    ]);
    expect(await count('esusp', "name = 'named'")).toBe(1);
  });

  it('a tenant whose SQL fails is rolled back whole; the others are committed (exit 1)', async () => {
    const r = await breakE2(() =>
      cli([
        'exec',
        '--all',
        '--json',
        '-c',
        "INSERT INTO customers (name) VALUES ('half'); UPDATE customers SET email = 'x' WHERE name = 'half'",
      ]),
    );
    expect(r.code).toBe(1);
    const body = r.json<Fleet>();
    expect(body.summary).toEqual({ done: 3, failed: 1, skipped: 0 });
    const e2 = body.tenants.find((t) => t.id === 'e2')!;
    expect(e2.status).toBe('failed');
    expect(e2.error).toMatch(/column "email" of relation "customers" does not exist.*nothing was changed/);
    expect(await count('e2', "name = 'half'")).toBe(0);
    for (const id of ['e1', 'e3', 'e4']) expect(await count(id, "name = 'half' AND email = 'x'")).toBe(1);
  });

  it('--fail-fast, --canary and --max-failures stop the run as migrate does', async () => {
    const sql = ['-c', "UPDATE customers SET email = 'p' WHERE false"];
    const fast = await breakE2(() => cli(['exec', '--all', '--json', '--fail-fast', '--concurrency', '1', ...sql]));
    expect(fast.code).toBe(1);
    const f = fast.json<Fleet>();
    expect(f.tenants.map((t) => t.status)).toEqual(['done', 'failed', 'skipped', 'skipped']);
    expect(f.tenants[2]!.reason).toBe('stopped');
    expect(f.stoppedBecause).toMatch(/--fail-fast: e2 failed/);

    const canary = await breakE2(() => cli(['exec', '--tenant', 'e2,e1,e3', '--json', '--canary', '1', ...sql]));
    expect(canary.code).toBe(1);
    const c = canary.json<Fleet>();
    // Tenants run in id order: e1 is the canary and passes, so the rest run.
    expect(c.tenants.map((t) => t.status)).toEqual(['done', 'failed', 'done']);
    const canary2 = await breakE2(() => cli(['exec', '--tenant', 'e2,e3,e4', '--json', '--canary', '1', ...sql]));
    expect(canary2.json<Fleet>().tenants.map((t) => t.status)).toEqual(['failed', 'skipped', 'skipped']);
    expect(canary2.json<Fleet>().stoppedBecause).toMatch(/--canary 1/);

    await db.pool.query('ALTER TABLE tenant_e3.customers RENAME COLUMN email TO mail');
    try {
      const max = await breakE2(() => cli(['exec', '--all', '--json', '--max-failures', '2', '--concurrency', '1', ...sql]));
      expect(max.json<Fleet>().tenants.map((t) => t.status)).toEqual(['done', 'failed', 'failed', 'skipped']);
      expect(max.json<Fleet>().stoppedBecause).toMatch(/--max-failures 2 reached/);
    } finally {
      await db.pool.query('ALTER TABLE tenant_e3.customers RENAME COLUMN mail TO email');
    }
  });

  it('refuses a role change, transaction control and bad flags', async () => {
    const role = await cli(['exec', '--all', '--json', '-c', "SELECT set_config('role', 'none', true)"]);
    expect(role.code).toBe(1);
    expect(role.json<Fleet>().tenants.every((t) => t.status === 'failed' && /changed the role/.test(t.error!))).toBe(true);
    const down = cliOn('postgresql://postgres@127.0.0.1:1/nowhere');
    const cases: [string[], RegExp][] = [
      [['exec', '--all', '-c', 'UPDATE customers SET name = name; COMMIT'], /COMMIT is not allowed in exec/],
      [['exec', '--all', '--tenant', 'e1', '-c', 'SELECT 1'], /--all or --tenant, not both/],
      [['exec', '-c', 'SELECT 1'], /needs --tenant ID \(one or more\) or --all/],
      [['exec', '--tenant', 'e1', 'Bad!', '-c', 'SELECT 1'], /invalid tenant id/],
      [['exec', '--all', '--canary', '0', '-c', 'SELECT 1'], /--canary must be a whole number/],
    ];
    for (const [args, message] of cases) {
      const r = await down(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});
