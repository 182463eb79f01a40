import { isRetryable } from '../sqlstate.js';

/**
 * Runs one attempt of a copy or move again when the server asks for a retry (a
 * serialization failure, a deadlock, a lock timeout), with exponential backoff
 * and jitter, at most `attempts` times in all. Everything else, and the last
 * attempt's error, goes to the caller. Each attempt is its own transaction, so a
 * failed one changed nothing.
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  options: { attempts: number; baseMs: number },
): Promise<{ value: T; attempts: number }> {
  for (let n = 1; ; n++) {
    try {
      return { value: await attempt(n), attempts: n };
    } catch (err) {
      if (n >= options.attempts || !isRetryable(err)) throw err;
      const wait = options.baseMs * 2 ** (n - 1);
      await new Promise((resolve) => setTimeout(resolve, wait / 2 + Math.random() * wait));
    }
  }
}
