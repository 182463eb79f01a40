import type { Queryable } from '../db/types.js';

/** Bytes copied so far of each schema Citus is moving now (get_rebalance_progress: shard moves under way). */
export async function moveProgress(
  db: Queryable,
  schemas?: readonly string[],
): Promise<{ schema: string; copiedBytes: number; totalBytes: number }[]> {
  const r = await db.query<{ schema: string; copied: string; total: string }>(
    `SELECT n.nspname AS schema, sum(p.target_shard_size)::bigint::text AS copied, sum(p.source_shard_size)::bigint::text AS total
       FROM get_rebalance_progress() p JOIN pg_class c ON c.oid = p.table_name JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE $1::text[] IS NULL OR n.nspname = ANY($1)
      GROUP BY n.nspname ORDER BY 1`,
    [schemas ? [...schemas] : null],
  );
  return r.rows.map((row) => ({ schema: row.schema, copiedBytes: Number(row.copied), totalBytes: Number(row.total) }));
}

/** Runs `tick` every `everyMs` (each after the previous one finished) until stop(), which waits for the one in flight. */
export function every(everyMs: number, tick: () => Promise<void>): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const run = () => {
    inFlight = tick()
      .catch(() => undefined)
      .finally(() => {
        if (!stopped) timer = setTimeout(run, everyMs);
      });
  };
  timer = setTimeout(run, everyMs);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight;
    },
  };
}
