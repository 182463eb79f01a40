import type pg from 'pg';

/**
 * An application's writer: inserts customers named w1, w2, ... one after
 * another into the server the placements map names for the tenant, and on any
 * error reads the map again and retries the same row. What it acknowledged,
 * how often it retried and the longest gap between two acknowledged writes.
 */
export interface Writer {
  acked: string[];
  failures: number;
  longestMs: number;
  /** Resolves once `n` more writes were acknowledged. */
  more(n: number): Promise<void>;
  stop(): Promise<void>;
}

export function startWriter(home: pg.Pool, pools: Record<string, pg.Pool>, id: string): Writer {
  const w: Writer = {
    acked: [],
    failures: 0,
    longestMs: 0,
    more: async (n) => {
      const target = w.acked.length + n;
      while (w.acked.length < target) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
  const waiters: (() => void)[] = [];
  let stopped = false;
  const placement = async () =>
    (await home.query<{ server: string }>(`SELECT server FROM tenantctl.placements WHERE tenant_id = $1`, [id])).rows[0]?.server ??
    'default';
  const loop = (async () => {
    let last = performance.now();
    for (let n = 1; !stopped; n++) {
      for (;;) {
        try {
          const pool = pools[await placement()]!;
          await pool.query(`INSERT INTO "tenant_${id}".customers (tenant_id, name) VALUES ($1, $2)`, [id, `w${n}`]);
          w.acked.push(`w${n}`);
          const now = performance.now();
          w.longestMs = Math.max(w.longestMs, now - last);
          last = now;
          for (const wake of waiters.splice(0)) wake();
          break;
        } catch {
          w.failures++;
        }
      }
    }
  })();
  return w;
}
