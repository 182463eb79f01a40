import type { Queryable } from '../../db/types.js';

/**
 * Whether a built template holds its own names as text, which renaming a
 * schema does not change: function bodies and settings, trigger arguments,
 * comments, and (in the capture) rows. Names in expressions (defaults, views,
 * policies, constraints, indexes) are stored by oid and follow a rename.
 * Spare tenants of the pool are renamed, so they need a template that holds
 * none; rows holding the id or key make every tenant's rows its own.
 */
export async function templateHoldsNames(db: Queryable, schema: string, role: string | null): Promise<boolean> {
  const r = await db.query<{ holds: boolean }>(
    `WITH s AS (SELECT oid FROM pg_namespace WHERE nspname = $1), words(w) AS (SELECT unnest(array_remove(ARRAY[$1::text, $2::text], NULL)))
     SELECT EXISTS (
       SELECT 1 FROM words, (
         SELECT p.prosrc || coalesce(array_to_string(p.proconfig, ' '), '') AS t FROM pg_proc p JOIN s ON s.oid = p.pronamespace
         UNION ALL SELECT encode(tg.tgargs, 'escape') FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN s ON s.oid = c.relnamespace
         UNION ALL SELECT d.description FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND c.oid = d.objoid JOIN s ON s.oid = c.relnamespace
         UNION ALL SELECT d.description FROM pg_description d JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND p.oid = d.objoid JOIN s ON s.oid = p.pronamespace
         UNION ALL SELECT d.description FROM pg_description d JOIN s ON d.classoid = 'pg_namespace'::regclass AND d.objoid = s.oid
       ) x WHERE strpos(x.t, words.w) > 0
     ) AS holds`,
    [schema, role],
  );
  return r.rows[0]!.holds;
}

/** Whether the rows the capture copies (their JSON, one text per table) hold any of these words. */
export function rowsHold(rows: readonly string[], words: readonly string[]): boolean {
  return rows.some((text) => words.some((w) => text.includes(w)));
}
