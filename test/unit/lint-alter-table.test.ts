import { describe, expect, it } from 'vitest';
import { findings, lint } from './lint-support.js';

describe('lint: ADD COLUMN', () => {
  it('a non-volatile default is fine; a volatile one rewrites the table', async () => {
    expect(
      await findings("ALTER TABLE t ADD COLUMN a timestamptz DEFAULT now(), ADD COLUMN b text DEFAULT 'x', ADD COLUMN c int DEFAULT 0;"),
    ).toEqual([]);
    expect(await findings('ALTER TABLE t\n  ADD COLUMN a float8 DEFAULT random();')).toEqual([
      ['adding-field-with-volatile-default', 'error', 3],
    ]);
    expect(await findings('ALTER TABLE t ADD COLUMN a uuid DEFAULT gen_random_uuid();')).toEqual([
      ['adding-field-with-volatile-default', 'error', 2],
    ]);
    expect(await findings("ALTER TABLE t ADD COLUMN a text DEFAULT 'x' || clock_timestamp()::text;")).toEqual([
      ['adding-field-with-volatile-default', 'error', 2],
    ]);
  });

  it('serial, identity and stored generated columns rewrite the table', async () => {
    expect(await findings('ALTER TABLE t ADD COLUMN a bigserial;')).toEqual([['adding-field-with-volatile-default', 'error', 2]]);
    expect(await findings('ALTER TABLE t ADD COLUMN a int GENERATED ALWAYS AS IDENTITY;')).toEqual([
      ['adding-field-with-volatile-default', 'error', 2],
    ]);
    expect(await findings('ALTER TABLE t ADD COLUMN a int GENERATED ALWAYS AS (b + 1) STORED;')).toEqual([
      ['adding-field-with-volatile-default', 'error', 2],
    ]);
  });

  it('a default calling a function lint does not know is a warning', async () => {
    const r = await lint('ALTER TABLE t ADD COLUMN a text DEFAULT my_fn();');
    expect(r.findings.map((f) => [f.rule, f.level])).toEqual([['adding-field-with-volatile-default', 'warn']]);
    expect(r.findings[0]!.message).toContain('my_fn()');
    expect(r.ok).toBe(true);
  });

  it('NOT NULL without a default fails on a table with rows; with one it is fine', async () => {
    expect(await findings('ALTER TABLE t ADD COLUMN a int NOT NULL;')).toEqual([['adding-required-field', 'error', 2]]);
    expect(await findings('ALTER TABLE t ADD COLUMN a int NOT NULL DEFAULT 0;')).toEqual([]);
  });

  it('a column with REFERENCES, CHECK or UNIQUE scans the table or builds an index under its lock', async () => {
    expect(await findings('ALTER TABLE t ADD COLUMN u bigint REFERENCES users (id);')).toEqual([
      ['constraint-missing-not-valid', 'error', 2],
    ]);
    expect(await findings('ALTER TABLE t ADD COLUMN a int UNIQUE;')).toEqual([['disallowed-unique-constraint', 'error', 2]]);
  });

  it('nothing about a table the run created', async () => {
    expect(
      await findings('CREATE TABLE t (id int);', 'ALTER TABLE t ADD COLUMN a int NOT NULL DEFAULT random(), ADD COLUMN b int UNIQUE;'),
    ).toEqual([]);
  });
});

describe('lint: constraints and NOT NULL', () => {
  it('CHECK and FOREIGN KEY need NOT VALID on an existing table', async () => {
    expect(await findings('ALTER TABLE t ADD CONSTRAINT t_fk FOREIGN KEY (u) REFERENCES users (id);')).toEqual([
      ['constraint-missing-not-valid', 'error', 2],
    ]);
    expect(await findings('ALTER TABLE t ADD CONSTRAINT t_pos CHECK (a > 0);')).toEqual([['constraint-missing-not-valid', 'error', 2]]);
    expect(await findings('ALTER TABLE t ADD CONSTRAINT t_fk FOREIGN KEY (u) REFERENCES users (id) NOT VALID;')).toEqual([]);
  });

  it('VALIDATE in the transaction that added the constraint NOT VALID is an error; after a commit it is the fix', async () => {
    expect(await findings('ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;', 'ALTER TABLE t VALIDATE CONSTRAINT c;')).toEqual([
      ['validate-in-same-transaction', 'error', 2],
    ]);
    expect(
      await findings('ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;', {
        sql: 'ALTER TABLE t VALIDATE CONSTRAINT c',
        noTransaction: true,
      }),
    ).toEqual([]);
    expect(await findings('ALTER TABLE t VALIDATE CONSTRAINT c;')).toEqual([]);
  });

  it('SET NOT NULL needs a validated CHECK (col IS NOT NULL) seen earlier', async () => {
    expect(await findings('ALTER TABLE t ALTER COLUMN a SET NOT NULL;')).toEqual([['setting-not-null', 'error', 2]]);
    expect(
      await findings('ALTER TABLE t ADD CONSTRAINT a_nn CHECK (a IS NOT NULL) NOT VALID;', {
        sql: 'ALTER TABLE t VALIDATE CONSTRAINT a_nn; ALTER TABLE t ALTER COLUMN a SET NOT NULL',
        noTransaction: true,
      }),
    ).toEqual([]);
    // A check on another column proves nothing about this one.
    expect(
      await findings('ALTER TABLE t ADD CONSTRAINT b_nn CHECK (b IS NOT NULL) NOT VALID;', {
        sql: 'ALTER TABLE t VALIDATE CONSTRAINT b_nn; ALTER TABLE t ALTER COLUMN a SET NOT NULL',
        noTransaction: true,
      }),
    ).toEqual([['setting-not-null', 'error', null]]);
  });

  it('UNIQUE and PRIMARY KEY build their index under the lock unless USING INDEX', async () => {
    expect(await findings('ALTER TABLE t ADD CONSTRAINT t_u UNIQUE (a);')).toEqual([['disallowed-unique-constraint', 'error', 2]]);
    expect(await findings('ALTER TABLE t ADD PRIMARY KEY (id);')).toEqual([['disallowed-unique-constraint', 'error', 2]]);
    expect(await findings('ALTER TABLE t ADD CONSTRAINT t_u UNIQUE USING INDEX t_a;')).toEqual([]);
  });
});

describe('lint: types, renames, drops, rewrites, transactions, syntax', () => {
  it('ALTER COLUMN TYPE rewrites; to text or varchar it is a warning; USING is an error', async () => {
    expect(await findings('ALTER TABLE t ALTER COLUMN a TYPE bigint;')).toEqual([['changing-column-type', 'error', 2]]);
    expect(await findings('ALTER TABLE t ALTER COLUMN a TYPE varchar(200);')).toEqual([['changing-column-type', 'warn', 2]]);
    expect(await findings('ALTER TABLE t ALTER COLUMN a TYPE text USING a::text;')).toEqual([['changing-column-type', 'error', 2]]);
  });

  it('renames break the running application; drops warn; neither for a table the run created', async () => {
    expect(await findings('ALTER TABLE t RENAME COLUMN a TO b;\nALTER TABLE t RENAME TO u;')).toEqual([
      ['renaming-column', 'error', 2],
      ['renaming-table', 'error', 3],
    ]);
    expect(await findings('ALTER TABLE t DROP COLUMN a;\nDROP TABLE old_things;')).toEqual([
      ['ban-drop-column', 'warn', 2],
      ['ban-drop-table', 'warn', 3],
    ]);
    expect(
      await findings('CREATE TABLE n (a int);\nALTER TABLE n RENAME COLUMN a TO b;\nALTER TABLE n DROP COLUMN b;\nDROP TABLE n;'),
    ).toEqual([]);
  });

  it('statements that rewrite a table', async () => {
    expect(await findings('VACUUM FULL t;\nCLUSTER t USING t_pkey;\nALTER TABLE t SET TABLESPACE slow, SET LOGGED;')).toEqual([
      ['ban-table-rewrite', 'error', 2],
      ['ban-table-rewrite', 'error', 3],
      ['ban-table-rewrite', 'error', 4],
      ['ban-table-rewrite', 'error', 4],
    ]);
  });

  it('transaction control inside a transactional migration', async () => {
    expect(await findings('BEGIN;\nCREATE TABLE n (a int);\nCOMMIT;')).toEqual([
      ['ban-transaction-control', 'error', 2],
      ['ban-transaction-control', 'error', 4],
    ]);
    expect(await findings({ sql: 'BEGIN; CREATE TABLE n (a int); COMMIT', noTransaction: true })).toEqual([]);
  });

  it('SQL that does not parse is an error at the line of the mistake', async () => {
    const r = await lint('CREATE TABLE n (a int);\n\nALTER TABEL t ADD COLUMN b int;');
    expect(r.findings.map((f) => [f.rule, f.level, f.line])).toEqual([['syntax-error', 'error', 4]]);
    expect(r.findings[0]!.message).toContain('syntax error at or near "TABEL"');
  });
});
