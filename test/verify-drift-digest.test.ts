import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, digestsSql, entriesSql } from '../src/verify/checks/drift/structure-sql.js';
import type { Entry } from '../src/verify/checks/drift/snapshot.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';

// drift's digest reads an index from its catalog rows instead of deparsing it (the deparser opens the
// index's table). The digest only picks the schemas whose deparsed entries are compared, so its form must
// tell apart every two indexes whose definitions differ, and give equal indexes equal digests, however the
// schema was built (here: a column dropped before the index was made, as a migration history may leave).

let db: TestDatabase;

/** The table every variant indexes, in schema `s`; `dropped` first adds and drops a column (attnums then differ). */
const table = (s: string, dropped = false) =>
  `CREATE SCHEMA ${s}; CREATE TABLE ${s}.t (${dropped ? 'gone int, ' : ''}a int, b text, c text)${dropped ? `; ALTER TABLE ${s}.t DROP COLUMN gone` : ''}`;

/** Each variant: the index statement (on ${s}.t) that differs from the base one in one respect. */
const VARIANTS: Record<string, string> = {
  base: 'CREATE INDEX i ON %s.t (a)',
  unique: 'CREATE UNIQUE INDEX i ON %s.t (a)',
  descending: 'CREATE INDEX i ON %s.t (a DESC)',
  'nulls first': 'CREATE INDEX i ON %s.t (a NULLS FIRST)',
  'another column': 'CREATE INDEX i ON %s.t (b)',
  'two columns': 'CREATE INDEX i ON %s.t (a, b)',
  'columns swapped': 'CREATE INDEX i ON %s.t (b, a)',
  include: 'CREATE INDEX i ON %s.t (a) INCLUDE (b)',
  collation: 'CREATE INDEX i ON %s.t (a, b COLLATE "C")',
  'operator class': 'CREATE INDEX i ON %s.t (a, b text_pattern_ops)',
  'storage parameter': 'CREATE INDEX i ON %s.t (a) WITH (fillfactor = 50)',
  'access method': 'CREATE INDEX i ON %s.t USING hash (a)',
  predicate: 'CREATE INDEX i ON %s.t (a) WHERE a > 0',
  'another predicate': 'CREATE INDEX i ON %s.t (a) WHERE a > 1',
  expression: 'CREATE INDEX i ON %s.t (lower(b))',
  'another expression': 'CREATE INDEX i ON %s.t (upper(b))',
  'another name': 'CREATE INDEX j ON %s.t (a)',
};

const schemaOf = (variant: string, route = '') => `dg_${variant.replaceAll(' ', '_')}${route}`;

const serverVersion = async (client: pg.PoolClient) =>
  Number((await client.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v);

/** The digests as drift computes a reference's: from the entries and index shapes of each schema, here. */
async function digestsHere(): Promise<Map<string, string | null>> {
  const client = await db.pool.connect();
  try {
    await client.query('SET search_path = pg_catalog');
    const oids = (await client.query<{ oids: string[] }>(`SELECT array_agg(oid) AS oids FROM pg_namespace WHERE nspname LIKE 'dg\\_%'`))
      .rows[0]!.oids;
    const r = await client.query<Entry & { schema: string }>(
      `SELECT n.nspname AS schema, x.kind, x.name, x.def FROM (${entriesSql('$1::oid[]', { serverVersion: await serverVersion(client) })}) x JOIN pg_namespace n ON n.oid = x.oid::oid`,
      [oids],
    );
    const by = new Map<string, Entry[]>();
    for (const row of r.rows) by.set(row.schema, [...(by.get(row.schema) ?? []), row]);
    return new Map([...by].map(([schema, rows]) => [schema, digestOf(rows)]));
  } finally {
    client.release();
  }
}

async function digests(): Promise<Map<string, string>> {
  const client = await db.pool.connect();
  try {
    await client.query('SET search_path = pg_catalog');
    const r = await client.query<{ schema: string; digest: string }>(
      `SELECT n.nspname AS schema, d.digest FROM (${digestsSql('$1::oid[]', await serverVersion(client))}) d JOIN pg_namespace n ON n.oid = d.oid::oid`,
      [
        (await client.query<{ oids: string[] }>(`SELECT array_agg(oid) AS oids FROM pg_namespace WHERE nspname LIKE 'dg\\_%'`)).rows[0]!
          .oids,
      ],
    );
    return new Map(r.rows.map((x) => [x.schema, x.digest]));
  } finally {
    client.release();
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  const statements: string[] = [];
  for (const [variant, index] of Object.entries(VARIANTS)) {
    statements.push(table(schemaOf(variant)), index.replaceAll('%s', schemaOf(variant)));
    // the same index on a table whose columns have other numbers
    statements.push(table(schemaOf(variant, '_dropped'), true), index.replaceAll('%s', schemaOf(variant, '_dropped')));
  }
  const version = Number((await db.pool.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`)).rows[0]!.v);
  if (version >= 150000) {
    statements.push(table('dg_nulls_not_distinct'), 'CREATE UNIQUE INDEX i ON dg_nulls_not_distinct.t (a) NULLS NOT DISTINCT');
  }
  // a column renamed after the index was made: the index definition names the column's new name
  statements.push(table('dg_renamed'), 'CREATE INDEX i ON dg_renamed.t (a)', 'ALTER TABLE dg_renamed.t RENAME COLUMN a TO z');
  await db.pool.query(statements.join(';\n'));
});

afterAll(async () => {
  await db?.drop();
});

describe("drift's index digest", () => {
  it('is the same for the same index whatever the column numbers, and differs for any other definition', async () => {
    const d = await digests();
    const same = Object.keys(VARIANTS).filter((v) => d.get(schemaOf(v)) !== d.get(schemaOf(v, '_dropped')));
    expect(same, 'digest differs between the two routes').toEqual([]);
    const others = [...d.keys()].filter((s) => !s.endsWith('_dropped') && s !== schemaOf('base'));
    const equalToBase = others.filter((s) => d.get(s) === d.get(schemaOf('base')));
    expect(equalToBase, 'digest equal to the base index').toEqual([]);
    // and every variant differs from every other one
    const distinct = new Set(others.map((s) => d.get(s)));
    expect(distinct.size).toBe(others.length);
  });

  it("computed from a schema's entries (as for the reference) is the server's digest of that schema", async () => {
    const server = await digests();
    const here = await digestsHere();
    expect(here.size).toBe(server.size);
    expect(Object.fromEntries(here)).toEqual(Object.fromEntries(server));
  });
});
