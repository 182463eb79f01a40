// Drift's statements over many schemas: how many schemas one statement covers, and one query over them in one message.
import { literal } from '../../../util/quote.js';
import { SqlParams } from '../../fleet-sql.js';
import type { VerifyScope } from '../../types.js';

/** A schema one of drift's statements describes: its oid, and how many relations in it the deparse may open (and lock). */
export interface SchemaRef {
  oid: string;
  relations: number;
}

/** At most this many schemas per statement, whatever the lock table allows (a statement's text and rows stay bounded). */
export const MAX_SCHEMAS_PER_STATEMENT = 1000;

/**
 * How many relations one statement may lock: half the server's lock table (max_locks_per_transaction
 * x (max_connections + max_prepared_transactions) slots, `lockSlots`), the other half left to every
 * other session, and shared by the statements that run side by side (`sideBySide`: drift's two
 * streams of digests). pg_get_viewdef locks a view and every relation it reads until the statement's
 * transaction ends (the example application's 1,000 schemas, one view over two tables each: 3,040
 * relation locks; its CHECK constraints and defaults lock nothing past their deparse). A statement
 * over more than the table holds fails with `out of shared memory`: 10,000 tenants of the example
 * application in one statement did, and so would 1,000 tenants of a few views each in the default
 * 6,400 slots. A schema counts its tables, views, materialized views and foreign tables: at most
 * what its views can lock.
 */
export function relationsPerStatement(lockSlots: number, sideBySide = 1): number {
  return Math.max(1, Math.floor(lockSlots / 2 / Math.max(1, sideBySide)));
}

/**
 * The schemas in statements, in order: each statement's schemas hold at most `relations` relations
 * between them (a schema of more than that gets a statement of its own) and number at most
 * `maxSchemas` (and MAX_SCHEMAS_PER_STATEMENT).
 */
export function statementGroups<S extends SchemaRef>(
  schemas: readonly S[],
  relations: number,
  maxSchemas = MAX_SCHEMAS_PER_STATEMENT,
): S[][] {
  const most = Math.max(1, Math.min(maxSchemas, MAX_SCHEMAS_PER_STATEMENT));
  const groups: S[][] = [];
  let group: S[] = [];
  let held = 0;
  for (const s of schemas) {
    if (group.length > 0 && (held + s.relations > relations || group.length === most)) {
      groups.push(group);
      group = [];
      held = 0;
    }
    group.push(s);
    held += s.relations;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/**
 * The schemas in `n` parts side by side, in order, of about equal work: a schema weighs its relations
 * and one (an empty schema still costs its catalog reads). Each part is then grouped in statements of
 * its own (statementGroups): halving the groups instead gave parts of 640 and 361 schemas where the
 * lock table made groups of 320 (the first stream ran 1.06 s, the second 0.75 s).
 */
export function streamsOf<S extends SchemaRef>(schemas: readonly S[], n: number): S[][] {
  const weight = (s: S) => s.relations + 1;
  const total = schemas.reduce((sum, s) => sum + weight(s), 0);
  const parts: S[][] = [];
  let part: S[] = [];
  let done = 0;
  for (const s of schemas) {
    // a part closes once it reaches its share of the whole: the k-th ends at k/n of the weight
    if (part.length > 0 && parts.length < n - 1 && done + weight(s) / 2 > (total * (parts.length + 1)) / n) {
      parts.push(part);
      part = [];
    }
    part.push(s);
    done += weight(s);
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

/** Runs the query `build` makes over one bound array of `values` (`build` gets its placeholder, cast to `cast`). */
export async function overArray<R extends object>(
  scope: Pick<VerifyScope, 'db'>,
  build: (array: string) => string,
  values: unknown[],
  cast: string,
): Promise<R[]> {
  const p = new SqlParams();
  const sql = build(p.add(values, cast));
  return (await scope.db.query<R>(sql, p.values)).rows;
}

/**
 * Runs the query `build` makes over the oids of `schemas`, grouped by statementGroups (see overGroups).
 */
export async function overSchemas<R extends object>(
  scope: Pick<VerifyScope, 'db'>,
  build: (oids: string) => string,
  schemas: readonly SchemaRef[],
  relations: number,
): Promise<R[]> {
  return overGroups<R>(scope, build, statementGroups(schemas, relations));
}

/**
 * Runs the query `build` makes over each group of schemas: one group is one statement over a bound
 * array; several are one statement per group (the oids as an array literal), all in one message with
 * a COMMIT after each. A COMMIT in a message of several statements ends its implicit transaction, so
 * each statement's locks are released before the next one takes its own: the groups still cost one
 * round trip. A catalog session runs no transaction of its own, so the COMMITs end nothing else.
 */
export async function overGroups<R extends object>(
  scope: Pick<VerifyScope, 'db'>,
  build: (oids: string) => string,
  groups: readonly (readonly SchemaRef[])[],
): Promise<R[]> {
  if (groups.length === 0) return [];
  if (groups.length === 1) {
    return overArray<R>(
      scope,
      build,
      groups[0]!.map((s) => s.oid),
      'oid[]',
    );
  }
  const statements = groups.map((g) => `${build(`${literal(`{${g.map((s) => s.oid).join(',')}}`)}::oid[]`)}; COMMIT`);
  const raw: unknown = await scope.db.query(statements.join(';\n'));
  const results = (Array.isArray(raw) ? raw : [raw]) as { command: string; rows: R[] }[];
  return results.filter((r) => r.command === 'SELECT').flatMap((r) => r.rows);
}
