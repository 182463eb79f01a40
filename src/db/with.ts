import type { Pool, PoolClient, Queryable } from './types.js';

/** Runs fn with one pooled client and always gives it back; a broken client is destroyed. */
export async function withClient<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    return await fn(client);
  } catch (err) {
    if (isConnectionLoss(err)) broken = err as Error;
    throw err;
  } finally {
    client.release(broken);
  }
}

/** BEGIN, fn, COMMIT; ROLLBACK on any error (the error is rethrown). */
export async function withTransaction<T>(client: Queryable, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

export function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  return (
    (typeof e?.code === 'string' && /^(08|57P0)/.test(e.code)) ||
    /Connection terminated|ECONNRESET|EPIPE|Client has encountered a connection error/i.test(e?.message ?? '')
  );
}
