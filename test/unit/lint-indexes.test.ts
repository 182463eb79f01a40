import { describe, expect, it } from 'vitest';
import { findings, lint } from './lint-support.js';

describe('lint: indexes', () => {
  it('CREATE INDEX on a table that existed before the migration: error, at its line in the file', async () => {
    expect(await findings('-- note\n\nCREATE INDEX t_a ON t (a);')).toEqual([['require-concurrent-index-creation', 'error', 4]]);
  });

  it('CREATE INDEX on a table the same file or an earlier file of the run created: nothing', async () => {
    expect(await findings('CREATE TABLE t (a int);\nCREATE INDEX t_a ON t (a);')).toEqual([]);
    expect(await findings('CREATE TABLE t (a int);', 'CREATE UNIQUE INDEX t_a ON t (a);')).toEqual([]);
    expect(await findings('CREATE TABLE t (a int);\nALTER TABLE t RENAME TO u;', 'CREATE INDEX u_a ON u (a);')).toEqual([]);
  });

  it('a table dropped and not recreated counts as existing again', async () => {
    expect(await findings('CREATE TABLE t (a int);\nDROP TABLE t;\nCREATE INDEX t_a ON public.t (a);')).toEqual([
      ['require-concurrent-index-creation', 'error', 4],
    ]);
  });

  it('lines count bytes the way the parser does: multi-byte text before a statement keeps the line right', async () => {
    const r = await lint(
      "-- Up Migration\nCOMMENT ON TABLE t IS 'café ☕';\n\n\nCREATE INDEX t_a ON t (a);\n-- Down Migration\nDROP INDEX t_a;\n",
    );
    expect(r.findings.map((f) => [f.rule, f.line, f.statement])).toEqual([
      ['require-concurrent-index-creation', 5, 'CREATE INDEX t_a ON t (a)'],
    ]);
  });

  it('CONCURRENTLY in a transactional migration is an error; in a pgm.noTransaction() one it is the fix', async () => {
    expect(await findings('CREATE INDEX CONCURRENTLY t_a ON t (a);')).toEqual([['ban-concurrently-in-transaction', 'error', 2]]);
    expect(await findings({ sql: 'CREATE INDEX CONCURRENTLY t_a ON t (a)', noTransaction: true })).toEqual([]);
    expect(await findings({ js: "pgm.noTransaction();\n  pgm.createIndex('t', 'a', { concurrently: true });" })).toEqual([]);
    expect(await findings({ js: "pgm.createIndex('t', 'a', { concurrently: true });" })).toEqual([
      ['ban-concurrently-in-transaction', 'error', null],
    ]);
  });

  it('DROP INDEX without CONCURRENTLY warns, unless the run created the index; DROP INDEX CONCURRENTLY in a transaction is an error', async () => {
    expect(await findings('DROP INDEX t_a;')).toEqual([['require-concurrent-index-deletion', 'warn', 2]]);
    expect(await findings('CREATE TABLE t (a int);\nCREATE INDEX t_a ON t (a);\nDROP INDEX t_a;')).toEqual([]);
    expect(await findings('DROP INDEX CONCURRENTLY t_a;')).toEqual([['ban-concurrently-in-transaction', 'error', 2]]);
    expect(await findings({ sql: 'DROP INDEX CONCURRENTLY t_a', noTransaction: true })).toEqual([]);
  });

  it('REINDEX without CONCURRENTLY is an error; with it, only outside a transaction', async () => {
    expect(await findings('REINDEX TABLE t;')).toEqual([['require-concurrent-reindex', 'error', 2]]);
    expect(await findings('REINDEX INDEX CONCURRENTLY t_a;')).toEqual([['ban-concurrently-in-transaction', 'error', 2]]);
    expect(await findings({ sql: 'REINDEX INDEX CONCURRENTLY t_a', noTransaction: true })).toEqual([]);
  });

  it('DETACH PARTITION CONCURRENTLY and REFRESH MATERIALIZED VIEW CONCURRENTLY need a non-transactional migration', async () => {
    expect(await findings('ALTER TABLE t DETACH PARTITION t_2020 CONCURRENTLY;')).toEqual([
      ['ban-concurrently-in-transaction', 'error', 2],
    ]);
    expect(await findings('REFRESH MATERIALIZED VIEW CONCURRENTLY v;')).toEqual([['ban-concurrently-in-transaction', 'error', 2]]);
    expect(await findings('REFRESH MATERIALIZED VIEW v;')).toEqual([['refresh-materialized-view', 'warn', 2]]);
    expect(await findings({ sql: 'REFRESH MATERIALIZED VIEW CONCURRENTLY v', noTransaction: true })).toEqual([]);
  });
});
