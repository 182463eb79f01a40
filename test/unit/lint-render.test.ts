import { describe, expect, it } from 'vitest';
import { lint, withSnippets } from './lint-support.js';

describe('lint: JS migrations are linted on the SQL they generate', () => {
  it('a builder call: the finding names the migration, the generated statement, and no line', async () => {
    const r = await lint({ js: "pgm.createIndex('customers', 'email');" });
    expect(r.findings).toEqual([
      expect.objectContaining({
        rule: 'require-concurrent-index-creation',
        level: 'error',
        migration: '1700000000000_m0',
        file: expect.stringMatching(/1700000000000_m0\.js$/),
        line: null,
        statement: 'CREATE INDEX "customers_email_index" ON "customers" ("email")',
        fix: expect.stringContaining('noTransaction'),
      }),
    ]);
    expect(r.migrations).toEqual([expect.objectContaining({ name: '1700000000000_m0', kind: 'js', transactional: true })]);
  });

  it('pgm.noTransaction() makes the migration non-transactional', async () => {
    const r = await lint({ js: "pgm.noTransaction();\n  pgm.createIndex('customers', 'email', { concurrently: true });" });
    expect(r.migrations[0]!.transactional).toBe(false);
    expect(r.findings).toEqual([]);
  });

  it('a table created by a JS migration is new to the next one', async () => {
    const r = await lint({ js: "pgm.createTable('things', { id: 'id', name: 'text' });" }, { js: "pgm.createIndex('things', 'name');" });
    expect(r.findings).toEqual([]);
  });

  it('a migration that queries the database: the SQL built before is linted, and a warning says the rest was not', async () => {
    const r = await lint({
      js: "pgm.addColumn('t', { a: { type: 'int', notNull: true } });\n  await pgm.db.query('SELECT 1');\n  pgm.dropTable('t');",
    });
    expect(r.findings.map((f) => [f.rule, f.level])).toEqual([
      ['migration-queries-database', 'warn'],
      ['adding-required-field', 'error'],
    ]);
  });

  it('an up function that throws is an error finding, not a crash', async () => {
    const r = await lint({ js: "throw new Error('boom');" });
    expect(r.findings.map((f) => [f.rule, f.level, f.message])).toEqual([['render-failed', 'error', expect.stringContaining('boom')]]);
    expect(r.ok).toBe(false);
  });

  it('an SQL file: only its Up part is linted, with lines of the file', async () => {
    const r = await lint(
      '-- a comment first\n-- Up Migration\nCREATE INDEX t_a ON t (a);\n\n-- Down Migration\nDROP TABLE t;\nREINDEX TABLE t;\n',
    );
    expect(r.findings.map((f) => [f.rule, f.line])).toEqual([['require-concurrent-index-creation', 3]]);
    expect(r.migrations[0]).toMatchObject({ kind: 'sql', transactional: true });
  });

  it('--fail-on warn fails on a warning that error lets through', async () => {
    const { lintFiles } = await import('../../src/index.js');
    const [warnOnly, again] = await withSnippets(['DROP INDEX t_a;'], (files) =>
      Promise.all([lintFiles({ files }), lintFiles({ files, failOn: 'warn' })]),
    );
    expect(warnOnly.ok).toBe(true);
    expect(again.ok).toBe(false);
    expect(again.summary).toEqual({ error: 0, warn: 1, info: 0 });
  });
});
