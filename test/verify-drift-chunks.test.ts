import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../src/db/connect.js';
import { overSchemas, type SchemaRef } from '../src/verify/checks/drift/statements.js';
import { digestsSql, schemaOidsSql } from '../src/verify/checks/drift/structure-sql.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';

// drift reads a large fleet's digests in statements of a bounded number of relations (pg_get_viewdef's locks
// must fit the server's lock table), all in one message: each statement's locks go before the next takes its
// own (each runs in a transaction of its own), and the fleet costs one round trip. Run here with 4 relations
// per statement over 5 schemas of 2 relations (a table and a view): 2 schemas per statement.

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  const schemas = ['a', 'b', 'c', 'd', 'e'].map(
    (s) =>
      `CREATE SCHEMA chunk_${s}; CREATE TABLE chunk_${s}.t (id int PRIMARY KEY, v text); CREATE VIEW chunk_${s}.w AS SELECT v FROM chunk_${s}.t`,
  );
  await db.pool.query(schemas.join('; '));
});
afterAll(async () => {
  await db?.drop();
});

describe('drift over many schemas', () => {
  it('splits the digests into statements that each release their locks, in one round trip, with the same digests', async () => {
    const stats = { roundTrips: 0 };
    const pool = createPool({ connectionString: db.url, source: 'flag' }, 1, stats);
    const client = await pool.connect();
    try {
      const names = ['a', 'b', 'c', 'd', 'e'].map((s) => `chunk_${s}`);
      const r = await client.query<SchemaRef & { schema: string; server_version: number }>(schemaOidsSql('$1::text[]'), [names]);
      const schemas = r.rows.sort((x, y) => (x.schema < y.schema ? -1 : 1));
      const digestsSqlHere = (oids: string) => digestsSql(oids, r.rows[0]!.server_version);
      expect(schemas.map((s) => s.relations)).toEqual([2, 2, 2, 2, 2]);
      const whole = await overSchemas<{ oid: string; digest: string }>({ db: client }, digestsSqlHere, schemas, 100);
      const before = stats.roundTrips;
      const split = await overSchemas<{ oid: string; digest: string }>({ db: client }, digestsSqlHere, schemas, 4);
      const trips = stats.roundTrips - before;
      // Each statement's transaction: one per statement of 2 schemas (so each one's locks end with it).
      const xacts = await overSchemas<{ oid: string; xact: string }>(
        { db: client },
        (oids) => `SELECT o::text AS oid, pg_catalog.pg_current_xact_id()::text AS xact FROM unnest(${oids}) AS o`,
        schemas,
        4,
      );
      const byOid = (rows: { oid: string; digest: string }[]) => new Map(rows.map((x) => [x.oid, x.digest]));
      expect({ trips, same: byOid(split), transactions: new Set(xacts.map((x) => x.xact)).size, rows: xacts.length }).toEqual({
        trips: 1,
        same: byOid(whole),
        transactions: 3,
        rows: 5,
      });
      expect(whole).toHaveLength(5);
    } finally {
      client.release();
      await pool.end();
    }
  });
});
