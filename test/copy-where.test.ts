import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, InputError, validateTransferOptions } from '../src/index.js';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { snapshot } from './support/snapshot.js';

// --where is the user's SQL: it may read anything the run can read, but it can
// neither write nor reach tenantctl's own statement parameters.

let db: TestDatabase;
let cli: ReturnType<typeof cliOn>;
const down = cliOn('postgresql://postgres@127.0.0.1:1/nowhere');

beforeAll(async () => {
  db = await createTestDatabase();
  cli = cliOn(db.url);
  const tc = await openOn(db.url);
  try {
    const r = await createTenants(tc, { ids: ['a', 'b', 'other'] });
    expect(r.summary.failed).toBe(0);
  } finally {
    await tc.close();
  }
  await db.pool.query(`
    INSERT INTO tenant_a.customers (tenant_id, name) SELECT 'a', 'c' || g FROM generate_series(1, 5) g;
    INSERT INTO tenant_a.customers (tenant_id, name) VALUES ('a', '$1');
    INSERT INTO tenant_a.projects (tenant_id, customer_id, name) SELECT 'a', id, 'p' || id FROM tenant_a.customers;
    INSERT INTO tenant_other.customers (tenant_id, name) VALUES ('other', 'x');`);
});
afterAll(async () => {
  await db?.drop();
});

/** The other tenant's sequence, as a sequence's state: what setval or nextval would change. */
async function otherSequence(): Promise<unknown> {
  return (await db.pool.query(`SELECT last_value::text, is_called FROM tenant_other.customers_id_seq`)).rows[0];
}

const move = (where: string, ...extra: string[]) => [
  'move',
  '--from',
  'a',
  '--to',
  'b',
  '--table',
  'customers',
  '--where',
  where,
  ...extra,
  '--json',
];

describe('--where', () => {
  const writing = [
    `setval('tenant_other.customers_id_seq', 999) > 0`,
    `nextval('tenant_other.customers_id_seq') > 0`,
    `id IN (SELECT setval('tenant_other.customers_id_seq', 5000))`,
  ];
  for (const where of writing) {
    it(`cannot write, in a dry run or a real one: ${where}`, async () => {
      const before = await snapshot(db.pool);
      const sequence = await otherSequence();
      for (const args of [move(where, '--dry-run'), move(where)]) {
        const r = await cli(args);
        expect(r.code, r.stderr).toBe(2);
        expect(r.json<{ error: { code: string; message: string } }>().error).toMatchObject({
          code: 'invalid_where',
          message: expect.stringMatching(
            /tries to write .*read-only transaction.*; the condition is evaluated read-only; nothing was changed/,
          ),
        });
        expect(await otherSequence()).toEqual(sequence);
      }
      expect(await snapshot(db.pool)).toBe(before);
    });
  }

  const parameters: [string, string][] = [
    ['$1', '$1'],
    ['$2 = 1', '$2'],
    ['id = $1', '$1'],
    [`(name = 'c1') OR id=$10`, '$10'],
  ];
  for (const [where, param] of parameters) {
    it(`refuses a parameter (${where}) before connecting, and changes nothing`, async () => {
      const offline = await down(move(where));
      expect(offline.code, offline.stderr).toBe(2);
      expect(offline.stderr.trim().split('\n')).toHaveLength(1);
      const before = await snapshot(db.pool);
      const r = await cli(move(where));
      expect(r.code, r.stderr).toBe(2);
      expect(r.json<{ error: { code: string; message: string } }>().error).toMatchObject({
        code: 'invalid_where',
        message: expect.stringContaining(`uses the parameter ${param}; --where takes no parameters`),
      });
      expect(await snapshot(db.pool)).toBe(before);
    });
  }

  it('refuses a NUL byte or a lone surrogate in the condition, through the library (a command line cannot carry a NUL)', async () => {
    for (const where of ["name = 'a\u0000'", "name = '\ud800'"]) {
      expect(() => validateTransferOptions({ from: 'a', to: 'b', tables: ['customers'], where })).toThrow(InputError);
    }
    expect(() => validateTransferOptions({ from: 'a', to: 'b', tables: ['customers'], where: "name = 'a\u0000'" })).toThrow(
      /--where holds a NUL byte/,
    );
  });

  it('takes a $ that is not a parameter: in strings, dollar quotes, comments and names', async () => {
    const fine = [
      `name = '$1'`,
      `name = E'\\$1' OR name = '$1'`,
      `name = $$$1$$`,
      `name = $t$$1$t$`,
      `/* $1 */ name = '$1'`,
      `-- $1\nname = '$1'`,
      `name = '$1' AND tenant_id = current_setting('tenantctl.tenant_key')`,
    ];
    for (const where of fine) {
      const r = await cli(move(where, '--dry-run'));
      expect(r.code, `${where}: ${r.stderr}`).toBe(0);
      expect(r.json(), where).toMatchObject({ status: 'planned', rows: 2 });
    }
  });

  it('reads other tables of the tenant, and the move that follows writes as usual', async () => {
    const r = await cli(move(`id IN (SELECT customer_id FROM projects WHERE name IN ('p1', 'p2'))`));
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ status: 'moved', rows: 4, deleted: 4 });
    const moved = await db.pool.query(
      `SELECT c.name, p.name AS project FROM tenant_b.customers c JOIN tenant_b.projects p ON p.customer_id = c.id ORDER BY 1`,
    );
    expect(moved.rows).toEqual([
      { name: 'c1', project: 'p1' },
      { name: 'c2', project: 'p2' },
    ]);
  });
});
