// The rule catalog: every rule's stable id, its level, what it catches and how to fix it (docs/lint.md lists the same).
import type { Level } from '../verify/types.js';

export interface RuleDefinition {
  level: Level;
  summary: string;
  fix: string;
}

export const RULES = {
  'citus-trigger': {
    level: 'warn',
    summary:
      'CREATE TRIGGER on a Citus coordinator: Citus refuses triggers on distributed tables unless citus.enable_unsafe_triggers is on',
    fix: 'put `SET LOCAL citus.enable_unsafe_triggers = on;` before CREATE TRIGGER in the migration (safe when the trigger only touches its own tenant schema), or drop the trigger',
  },
  'citus-create-schema-with-table': {
    level: 'warn',
    summary: 'CREATE SCHEMA ... CREATE TABLE in one statement: Citus cannot make a distributed schema and its tables at once',
    fix: 'create the schema first, then each table in a statement of its own',
  },
  'citus-foreign-key-to-plain-table': {
    level: 'warn',
    summary:
      'a foreign key to a table outside the tenant schema that the config does not make a reference table: Citus refuses it (a tenant table may reference only its own schema and reference tables)',
    fix: 'add the table to "citus": {"referenceTables": [...]} (or "all") and run tenantctl init, or drop the foreign key',
  },
  'syntax-error': {
    level: 'error',
    summary: 'the SQL does not parse',
    fix: 'fix the statement; the migration would fail on every tenant',
  },
  'render-failed': {
    level: 'error',
    summary: 'the JS migration threw while building its SQL',
    fix: 'fix the up function; nothing after the error was linted',
  },
  'migration-queries-database': {
    level: 'warn',
    summary: 'the JS migration queries the database (pgm.db) while it runs; SQL it builds after that is not seen',
    fix: 'build the SQL with pgm calls, or lint what it runs by hand',
  },
  'require-concurrent-index-creation': {
    level: 'error',
    summary: 'CREATE INDEX without CONCURRENTLY on a table that existed before the migration blocks writes while the index builds',
    fix: 'create it CONCURRENTLY (pgm.createIndex(..., { concurrently: true })) in a migration that calls pgm.noTransaction()',
  },
  'require-concurrent-index-deletion': {
    level: 'warn',
    summary: 'DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table',
    fix: 'drop it CONCURRENTLY in a migration that calls pgm.noTransaction()',
  },
  'require-concurrent-reindex': {
    level: 'error',
    summary: 'REINDEX without CONCURRENTLY blocks writes (and reads through the index) while it rebuilds',
    fix: 'REINDEX ... CONCURRENTLY in a migration that calls pgm.noTransaction()',
  },
  'ban-concurrently-in-transaction': {
    level: 'error',
    summary: 'CONCURRENTLY cannot run inside a transaction, and the migration runs in one: it fails on every tenant',
    fix: 'move the statement to its own migration that calls pgm.noTransaction()',
  },
  'adding-field-with-volatile-default': {
    level: 'error',
    summary:
      'ADD COLUMN whose default is volatile (random(), gen_random_uuid(), clock_timestamp(), a serial, an identity, a stored generated column) rewrites the table under an ACCESS EXCLUSIVE lock',
    fix: 'add the column without the default, SET DEFAULT in a second statement, then backfill existing rows in batches',
  },
  'adding-required-field': {
    level: 'error',
    summary: 'ADD COLUMN ... NOT NULL without a default fails on a table that has rows',
    fix: 'give the column a non-volatile default, or add it nullable, backfill, then set NOT NULL through a validated check',
  },
  'changing-column-type': {
    level: 'error',
    summary:
      'ALTER COLUMN ... TYPE rewrites the table and its indexes under an ACCESS EXCLUSIVE lock (unless the change is binary coercible, such as varchar to text)',
    fix: 'add a new column, backfill it in batches, switch the application over, then drop the old one',
  },
  'constraint-missing-not-valid': {
    level: 'error',
    summary:
      'adding a CHECK or FOREIGN KEY to a table that existed before the migration scans it while holding a lock that blocks writes (a CHECK: reads too)',
    fix: 'add it NOT VALID, then VALIDATE CONSTRAINT in a migration of a later release (tenantctl applies the pending migrations of one run in one transaction) or one that calls pgm.noTransaction(): validation takes a lock that lets reads and writes go on',
  },
  'validate-in-same-transaction': {
    level: 'error',
    summary: 'VALIDATE CONSTRAINT in the same transaction that added it NOT VALID still scans under the lock the ADD took',
    fix: 'validate it in a migration of a later release (tenantctl applies the pending migrations of one run in one transaction) or one that calls pgm.noTransaction()',
  },
  'disallowed-unique-constraint': {
    level: 'error',
    summary: 'adding a UNIQUE, PRIMARY KEY or EXCLUDE constraint builds its index under an ACCESS EXCLUSIVE lock',
    fix: 'CREATE UNIQUE INDEX CONCURRENTLY first (non-transactional migration), then ADD CONSTRAINT ... USING INDEX',
  },
  'setting-not-null': {
    level: 'error',
    summary:
      'SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock unless a validated CHECK (col IS NOT NULL) already proves it',
    fix: 'ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID, VALIDATE it in a migration of a later release (tenantctl applies the pending migrations of one run in one transaction) or one that calls pgm.noTransaction(), then SET NOT NULL (and drop the check)',
  },
  'renaming-column': {
    level: 'error',
    summary: 'renaming a column breaks the running application, which still uses the old name until it is redeployed',
    fix: 'add the new column, write both, backfill, move readers over, and drop the old column in a later release',
  },
  'renaming-table': {
    level: 'error',
    summary: 'renaming a table breaks the running application, which still uses the old name until it is redeployed',
    fix: 'create the new table (or a view under the old name), move the application over, then drop the old name in a later release',
  },
  'ban-drop-column': {
    level: 'warn',
    summary: 'dropping a column breaks a running application that still reads or writes it',
    fix: 'stop using the column in the application first, deploy that, then drop it',
  },
  'ban-drop-table': {
    level: 'warn',
    summary: 'dropping a table breaks a running application that still uses it',
    fix: 'stop using the table in the application first, deploy that, then drop it',
  },
  'ban-table-rewrite': {
    level: 'error',
    summary:
      'VACUUM FULL, CLUSTER, SET TABLESPACE, SET LOGGED / UNLOGGED and SET ACCESS METHOD rewrite the table under an ACCESS EXCLUSIVE lock',
    fix: 'do it in a maintenance window, or use an online tool (pg_repack) outside migrations',
  },
  'refresh-materialized-view': {
    level: 'warn',
    summary: 'REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks reads of the view while it runs',
    fix: 'REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a unique index on the view) in a migration that calls pgm.noTransaction()',
  },
  'ban-transaction-control': {
    level: 'error',
    summary: 'BEGIN, COMMIT, ROLLBACK or SAVEPOINT inside a migration: tenantctl runs the migration in its own transaction',
    fix: 'remove the statement; use pgm.noTransaction() for a migration that must run outside a transaction',
  },
} as const satisfies Record<string, RuleDefinition>;

export type RuleId = keyof typeof RULES;

export const RULE_IDS = Object.keys(RULES) as RuleId[];
