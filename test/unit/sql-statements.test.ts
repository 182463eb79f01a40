import { describe, expect, it } from 'vitest';
import { escapingStatement, statementHeads } from '../../src/util/sql-statements.js';

const kinds = (sql: string) => statementHeads(sql).map(escapingStatement);

describe('statementHeads', () => {
  it('splits at semicolons outside quotes, dollar quotes and comments', () => {
    const sql = `SELECT 'a;b', "x;y" FROM t; -- ; not here
      DO $$ BEGIN PERFORM 1; COMMIT; END $$; /* ; /* nested ; */ */ INSERT INTO t VALUES (E'\\';')`;
    expect(statementHeads(sql).map((h) => h.words[0])).toEqual(['SELECT', 'DO', 'INSERT']);
    expect(statementHeads(sql).map((h) => h.line)).toEqual([1, 2, 2]);
  });

  it('finds nothing in blank or comment-only text', () => {
    expect(statementHeads('  ;; -- x\n /* y */ ')).toEqual([]);
  });
});

describe('escapingStatement', () => {
  it.each([
    ['COMMIT', 'COMMIT'],
    ['commit work', 'COMMIT'],
    ['END', 'END'],
    ['BEGIN', 'BEGIN'],
    ['start transaction', 'START'],
    ['ROLLBACK', 'ROLLBACK'],
    ['ABORT', 'ABORT'],
    ["PREPARE TRANSACTION 'x'", 'PREPARE TRANSACTION'],
    ['SET ROLE postgres', 'SET ROLE'],
    ['set role = postgres', 'SET ROLE'],
    ['RESET ROLE', 'RESET ROLE'],
    ['SET SESSION AUTHORIZATION postgres', 'SET SESSION AUTHORIZATION'],
    ['RESET SESSION AUTHORIZATION', 'RESET SESSION AUTHORIZATION'],
    ['SET LOCAL ROLE x', 'SET LOCAL ROLE'],
    ['SET session_authorization = x', 'SET SESSION_AUTHORIZATION'],
    ['DISCARD ALL', 'DISCARD'],
  ])('%s is refused as %s', (sql, kind) => {
    expect(kinds(`SELECT 1; ${sql}`)).toEqual([undefined, kind]);
  });

  it.each([
    'ROLLBACK TO SAVEPOINT s',
    'SAVEPOINT s',
    'RELEASE s',
    "SELECT 'COMMIT'",
    'SET search_path = x',
    'CREATE TABLE commit_log (id int)',
    'DO $$ BEGIN NULL; END $$',
  ])('%s is allowed', (sql) => {
    expect(kinds(sql)).toEqual([undefined]);
  });
});
