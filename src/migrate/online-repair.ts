// What an interrupted CONCURRENTLY statement left behind, undone before it runs again, and checked after it
// ran: INVALID indexes are dropped (DROP INDEX CONCURRENTLY) and built again, a pending detach is finalized.
import type { Queryable } from '../db/types.js';
import { ident, qualified } from '../util/quote.js';
import type { Interruptible, WrittenName } from './online-statements.js';

/** What to do with the statement once the leftovers are gone. */
export type Before = { run: true; sql?: string; repaired: string[] } | { run: false; repaired: string[]; note: string };

/** A written name as SQL text: quoted, schema-qualified when the migration qualified it. */
const quotedName = (n: WrittenName) => (n.schema ? qualified(n.schema, n.name) : ident(n.name));

/** The index of that name in the table's schema, if any: its schema, validity and whether it is on that table. */
async function namedIndex(db: Queryable, table: WrittenName, index: WrittenName) {
  const r = await db.query<{ schema: string; name: string; valid: boolean; same_table: boolean }>(
    `SELECT n.nspname AS schema, c.relname AS name, i.indisvalid AS valid, i.indrelid = t.oid AS same_table
       FROM pg_catalog.pg_class t
       JOIN pg_catalog.pg_namespace n ON n.oid = coalesce(to_regnamespace($3), t.relnamespace)
       JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = $2 AND c.relkind IN ('i', 'I')
       JOIN pg_catalog.pg_index i ON i.indexrelid = c.oid
      WHERE t.oid = to_regclass($1)`,
    [quotedName(table), index.name, index.schema ? ident(index.schema) : null],
  );
  return r.rows[0];
}

/**
 * INVALID indexes on a table: all of them, or only the copies REINDEX CONCURRENTLY
 * makes (<index>_ccnew, _ccold, numbered when taken): of one index, or of any.
 */
async function invalidOn(db: Queryable, table: string, copies?: { of?: string }): Promise<{ schema: string; name: string }[]> {
  const r = await db.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, c.relname AS name
       FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE i.indrelid = to_regclass($1) AND NOT i.indisvalid
        AND ($2::boolean IS NOT TRUE OR c.relname ~ (coalesce('^' || $3, '') || '_cc(new|old)[0-9]*$'))
      ORDER BY 2`,
    [table, copies !== undefined, copies?.of === undefined ? null : copies.of.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')],
  );
  return r.rows;
}

/** The table a REINDEX works on, and (for REINDEX INDEX) the index's own name. */
async function reindexTable(
  db: Queryable,
  target: WrittenName,
  object: 'index' | 'table',
): Promise<{ table: string; index?: string } | undefined> {
  if (object === 'table') return { table: quotedName(target) };
  const r = await db.query<{ schema: string; name: string }>(
    `SELECT n.nspname AS schema, t.relname AS name FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
       JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace WHERE i.indexrelid = to_regclass($1)`,
    [quotedName(target)],
  );
  const row = r.rows[0];
  return row ? { table: qualified(row.schema, row.name), index: target.name } : undefined;
}

async function detachState(db: Queryable, parent: WrittenName, partition: WrittenName): Promise<'attached' | 'pending' | 'detached'> {
  const r = await db.query<{ pending: boolean }>(
    `SELECT inhdetachpending AS pending FROM pg_catalog.pg_inherits WHERE inhrelid = to_regclass($1) AND inhparent = to_regclass($2)`,
    [quotedName(partition), quotedName(parent)],
  );
  const row = r.rows[0];
  return row === undefined ? 'detached' : row.pending ? 'pending' : 'attached';
}

async function dropInvalid(db: Queryable, found: { schema: string; name: string }[]): Promise<string[]> {
  for (const ix of found) await db.query(`DROP INDEX CONCURRENTLY IF EXISTS ${qualified(ix.schema, ix.name)}`); // qualified() quotes both names
  return found.map((ix) => ix.name);
}

/** Before a statement runs again: clear what an interrupted run of it left. */
export async function beforeStatement(db: Queryable, what: Interruptible): Promise<Before> {
  if (what.kind === 'create-index') {
    if (!what.index) return { run: true, repaired: [] };
    const found = await namedIndex(db, what.table, what.index);
    if (found && !found.valid) return { run: true, repaired: await dropInvalid(db, [found]) };
    if (found?.valid && found.same_table && !what.ifNotExists) {
      return {
        run: false,
        repaired: [],
        note: `index ${found.name} is already built and valid (an earlier run was cut off after building it); kept`,
      };
    }
    return { run: true, repaired: [] };
  }
  if (what.kind === 'reindex') {
    const on = await reindexTable(db, what.target, what.object);
    if (!on) return { run: true, repaired: [] };
    return { run: true, repaired: await dropInvalid(db, await invalidOn(db, on.table, { of: on.index })) };
  }
  const state = await detachState(db, what.parent, what.partition);
  if (state === 'pending')
    return {
      run: true,
      sql: `ALTER TABLE ${quotedName(what.parent)} DETACH PARTITION ${quotedName(what.partition)} FINALIZE`,
      repaired: [what.partition.name],
    };
  if (state === 'detached')
    return { run: false, repaired: [], note: `${what.partition.name} is already detached from ${what.parent.name}` };
  return { run: true, repaired: [] };
}

/** After a statement ran: what is still half-done (an INVALID index, a pending detach), or undefined when nothing is. */
export async function afterStatement(db: Queryable, what: Interruptible): Promise<string | undefined> {
  if (what.kind === 'create-index') {
    const invalid = what.index
      ? await namedIndex(db, what.table, what.index).then((f) => (f && !f.valid ? [f.name] : []))
      : (await invalidOn(db, quotedName(what.table))).map((f) => f.name);
    return invalid.length ? `index ${invalid.join(', ')} is INVALID after the build` : undefined;
  }
  if (what.kind === 'reindex') {
    const on = await reindexTable(db, what.target, what.object);
    const left = on ? await invalidOn(db, on.table, { of: on.index }) : [];
    return left.length ? `REINDEX left INVALID index ${left.map((l) => l.name).join(', ')}` : undefined;
  }
  return (await detachState(db, what.parent, what.partition)) === 'pending' ? `${what.partition.name} is still pending detach` : undefined;
}
