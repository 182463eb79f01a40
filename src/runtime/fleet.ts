import type { Context } from '../context.js';
import { InputError } from '../errors.js';
import { isBroken, isConnectionLoss, markBroken, releaseClean } from '../db/session.js';
import type { PoolClient } from '../db/types.js';
import { setTimeout as delay } from 'node:timers/promises';
import { serverContext } from './servers.js';

/** What happens to the rest of the fleet when tenants fail. */
export interface FailurePolicy {
  /** Stop starting new tenants after the first failure. */
  failFast?: boolean;
  /** Run this many tenants first; if any of them fails, run none of the rest. */
  canary?: number;
  /** Stop starting new tenants once this many have failed. */
  maxFailures?: number;
}

/** Checks a failure policy (and concurrency) without a database. */
export function validatePolicy(p: FailurePolicy & { concurrency?: number }): void {
  for (const [flag, n] of [
    ['--canary', p.canary],
    ['--max-failures', p.maxFailures],
    ['--concurrency', p.concurrency],
  ] as const) {
    if (n !== undefined && (!Number.isInteger(n) || n < 1))
      throw new InputError('usage', `${flag} must be a whole number of at least 1, got ${n}`);
  }
}

export interface FleetOutcome<R> {
  /** One result per job, in job order; undefined for jobs never started. */
  results: (R | undefined)[];
  /** Why the run stopped early, if it did. */
  stoppedBecause?: string;
}

/**
 * A work queue: `concurrency` workers, each with its own connection from the
 * pool, take jobs in order. A job returns a result (expected failures are
 * results, not exceptions); `isFailure` tells the policy which results count.
 */
export async function runFleet<J, R>(
  ctx: Context,
  jobs: readonly J[],
  options: FailurePolicy & {
    concurrency: number;
    isFailure: (r: R) => boolean;
    label: (j: J) => string;
    status: (r: R) => string;
    /** The result for a job whose work threw (a lost connection, a bug). */
    onError: (j: J, err: unknown) => R;
    /**
     * Try a job again, in the same run, when its result says the server asked
     * for it (a lock timeout, a deadlock, a serialization failure): up to
     * `times` more attempts, after an exponentially growing wait with jitter.
     * `attempts` records how many it took on the final result of a retried job.
     */
    retry?: { times: number; retryable: (r: R) => boolean; attempts: (r: R, n: number) => R; baseMs?: number };
    /**
     * The server a job runs on ("default" when not given): each server gets its
     * own workers and pool, `concurrency` of them, so servers run in parallel.
     * A server that cannot be reached fails its jobs (onError), not the run.
     */
    serverOf?: (j: J) => string;
  },
  work: (client: PoolClient, job: J) => Promise<R>,
): Promise<FleetOutcome<R>> {
  const results: (R | undefined)[] = new Array(jobs.length).fill(undefined);
  let failed = 0;
  let done = 0;
  let stoppedBecause: string | undefined;
  const serverOf = options.serverOf ?? (() => ctx.server);
  /** Servers whose connection failed in this run: their remaining jobs fail at once with the same error. */
  const down = new Map<string, unknown>();

  const runQueue = async (queue: readonly number[], server: string, workers: number) => {
    const pool = serverContext(ctx, server).pool;
    widenPool(pool, workers);
    let next = 0;
    const worker = async () => {
      let client: PoolClient | undefined;
      try {
        while (next < queue.length && !stoppedBecause) {
          const index = queue[next++]!;
          const job = jobs[index]!;
          let result!: R;
          for (let attempt = 1; ; attempt++) {
            try {
              if (down.has(server)) throw down.get(server);
              if (!client) {
                try {
                  client = await pool.connect();
                } catch (err) {
                  if (isConnectionLoss(err) && server !== 'default') down.set(server, err);
                  throw err;
                }
              }
              result = await work(client, job);
            } catch (err) {
              // A lost connection, a failed connect (or a bug) fails this tenant; the next one gets a fresh session.
              result = options.onError(job, err);
              if (client) markBroken(client, isConnectionLoss(err) ? err : new Error('worker failed'));
            }
            // A session the reset could not clean is given up; the next tenant gets a fresh one.
            if (client && isBroken(client)) {
              await releaseClean(client);
              client = undefined;
            }
            const retry = options.retry;
            if (!retry || !retry.retryable(result) || attempt > retry.times || stoppedBecause) {
              if (retry && attempt > 1) result = retry.attempts(result, attempt);
              break;
            }
            const wait = backoff(attempt, retry.baseMs ?? 250);
            ctx.log.info(
              `${options.label(job)}: ${options.status(result)} on attempt ${attempt} (the server asked to retry); trying again in ${Math.round(wait)} ms`,
            );
            await delay(wait);
          }
          results[index] = result;
          done++;
          if (options.isFailure(result)) {
            failed++;
            if (options.failFast) stoppedBecause ??= `--fail-fast: ${options.label(job)} failed`;
            if (options.maxFailures !== undefined && failed >= options.maxFailures) {
              stoppedBecause ??= `--max-failures ${options.maxFailures} reached`;
            }
          }
          ctx.onProgress?.({ id: options.label(job), status: options.status(result), done, failed, total: jobs.length });
        }
      } finally {
        if (client) await releaseClean(client);
      }
    };
    const n = Math.max(1, Math.min(workers, queue.length));
    await Promise.all(Array.from({ length: n }, worker));
  };

  /** Jobs from..to-1, each server's share by its own workers, all servers at once; one failure policy for them all. */
  const phase = async (from: number, to: number, workers: number) => {
    const queues = new Map<string, number[]>();
    for (let i = from; i < to; i++) {
      const server = serverOf(jobs[i]!);
      let queue = queues.get(server);
      if (!queue) queues.set(server, (queue = []));
      queue.push(i);
    }
    await Promise.all([...queues].map(([server, queue]) => runQueue(queue, server, workers)));
  };

  const canary = Math.min(options.canary ?? 0, jobs.length);
  if (canary > 0) {
    await phase(0, canary, options.concurrency);
    if (failed > 0) stoppedBecause ??= `--canary ${canary}: ${failed} of the first ${canary} failed`;
  }
  if (!stoppedBecause) await phase(canary, jobs.length, options.concurrency);
  return { results, stoppedBecause };
}

/** Exponential backoff with jitter: about base * 2^(attempt-1), between half and all of it, at most 30 s. */
export function backoff(attempt: number, baseMs: number): number {
  const ceiling = Math.min(30_000, baseMs * 2 ** (attempt - 1));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * A run asks for `concurrency` workers, whatever the pool was sized for at open
 * (library callers pass their own): each worker holds one connection, and one
 * more is left for the run's own queries.
 */
function widenPool(pool: Context['pool'], concurrency: number): void {
  const options = (pool as { options?: { max?: number } }).options;
  if (options && typeof options.max === 'number' && options.max < concurrency + 1) options.max = concurrency + 1;
}
