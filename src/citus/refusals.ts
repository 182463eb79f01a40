import { InputError } from '../errors.js';

/**
 * What Citus refuses in a migration (or a move), by the text of its error: the
 * rule in plain words and the fix. The one place that knows Citus's messages;
 * the migration failure message and relocate use it.
 */
interface Refusal {
  match: RegExp;
  rule: string;
  fix: string;
}

const REFUSALS: readonly Refusal[] = [
  {
    match: /triggers are not supported on (distributed|reference) tables/,
    rule: 'Citus refuses triggers on distributed tables unless citus.enable_unsafe_triggers is on',
    fix: 'put `SET LOCAL citus.enable_unsafe_triggers = on;` before CREATE TRIGGER in the migration (safe when the trigger only touches its own tenant schema), or drop the trigger',
  },
  {
    match:
      /foreign keys from distributed schemas can only point to the same distributed schema or reference tables|referenced table .* must be a distributed table or a reference table/,
    rule: 'on Citus a tenant table may reference only tables of its own schema or reference tables',
    fix: 'make the shared table a reference table ("citus": {"referenceTables": ...} in the config, then tenantctl init), or drop the foreign key',
  },
  {
    match: /cannot create foreign keys to tables in a distributed schema from another schema/,
    rule: "on Citus no table outside a tenant's schema may reference a table in it",
    fix: 'drop the foreign key, or keep both tables in the tenant schema',
  },
  {
    match: /cannot create distributed schema and table in a single statement/,
    rule: 'Citus cannot make a distributed schema and its tables in one CREATE SCHEMA ... CREATE TABLE statement',
    fix: 'create the schema first, then each table in a statement of its own',
  },
  {
    match: /cannot create foreign key constraint since relations are not colocated or not referencing a reference table/,
    rule: 'on Citus a foreign key must stay inside one distributed schema or point to a reference table',
    fix: 'make the referenced table a reference table, or drop the foreign key',
  },
  {
    match: /doesn't have a REPLICA IDENTITY or PRIMARY KEY/,
    rule: 'an online move (logical replication) needs every table of the tenant to have a primary key or a replica identity',
    fix: 'add a primary key (or ALTER TABLE ... REPLICA IDENTITY FULL) in a migration, or move with --block-writes',
  },
];

/**
 * A unique violation on a worker during an INSERT ... SELECT that Citus ran through the coordinator (it
 * sends the rows on with COPY): Citus re-raises the worker's message with SQLSTATE XX000, so the code
 * alone does not tell a key conflict (23505 elsewhere).
 */
export function isCitusUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return e?.code === 'XX000' && typeof e.message === 'string' && /^duplicate key value violates unique constraint /.test(e.message);
}

/**
 * copy and move on Citus, tables that reference each other in a cycle (two tables or more; a table that
 * references itself is fine): tenantctl writes such a group in one statement (a WITH of one INSERT per table)
 * so that the foreign-key checks see the whole group, but Citus runs each part of a WITH that writes a
 * distributed table as a statement of its own, so the checks would fail halfway. Refused before anything runs.
 */
export function citusCycleUnsupported(operation: 'copy' | 'move', cycles: readonly (readonly string[])[]): InputError {
  const named = cycles.map((c) => c.join(' <-> ')).join('; ');
  return new InputError(
    'citus_unsupported',
    `${operation} on a Citus coordinator cannot write tables that reference each other in a cycle (${named}): Citus runs each part of the statement that writes them on its own, so their foreign-key checks fail halfway; nothing was changed. Leave them out (--table names the tables to take)`,
    { cycles },
  );
}

/** "Citus rule: ...; fix: ..." for an error Citus raised for one of its rules; undefined for any other error. */
export function citusRefusal(err: unknown): string | undefined {
  const message = typeof (err as { message?: unknown })?.message === 'string' ? (err as Error).message : String(err);
  const refusal = REFUSALS.find((r) => r.match.test(message));
  return refusal ? `Citus rule: ${refusal.rule}; fix: ${refusal.fix}` : undefined;
}
