// Counts the statements a check sends.
import type { Queryable } from '../db/types.js';

/** A view of `db` that counts the statements sent through it: each check's own round trips, even when checks overlap. */
export function counted(db: Queryable, counter: { n: number }): Queryable {
  return {
    query: ((...args: Parameters<Queryable['query']>) => {
      counter.n++;
      return db.query(...args);
    }) as Queryable['query'],
  };
}
