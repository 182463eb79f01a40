import { InputError, usage } from '../errors.js';
import { createPool, type PoolStats } from './connect.js';
import type { Pool } from './types.js';

/**
 * One pool per server of the fleet. The home server ("default") is the pool
 * the connection opened; the others are made on first use from the config's
 * `servers`, so a run that touches only home tenants never connects elsewhere.
 */
export class ServerPools {
  readonly #pools = new Map<string, Pool>();
  readonly #owned = new Set<string>();

  constructor(
    home: Pool,
    private readonly urls: Readonly<Record<string, string>>,
    private readonly stats: PoolStats,
    private readonly max: number,
  ) {
    this.#pools.set('default', home);
  }

  /** Every server's name, home first. */
  names(): string[] {
    return ['default', ...Object.keys(this.urls).sort()];
  }

  has(name: string): boolean {
    return name === 'default' || Object.hasOwn(this.urls, name);
  }

  /** The pool of a named server; exit 2 for a name the config does not list. */
  pool(name: string): Pool {
    let pool = this.#pools.get(name);
    if (pool) return pool;
    const url = this.urls[name];
    if (url === undefined) throw unknownServer(name, this.names());
    pool = createPool({ connectionString: url, source: 'flag' }, this.max, this.stats);
    this.#pools.set(name, pool);
    this.#owned.add(name);
    return pool;
  }

  /** A server's connection string (the home server's is the one its pool opened with), for a server that must reach another (a subscription). */
  url(name: string): string | undefined {
    if (name === 'default')
      return (this.#pools.get('default') as unknown as { options?: { connectionString?: string } }).options?.connectionString;
    return this.urls[name];
  }

  /** Ends the pools this set made (the home pool belongs to whoever opened it). */
  async end(): Promise<void> {
    await Promise.all(
      [...this.#owned].map((name) =>
        this.#pools
          .get(name)!
          .end()
          .catch(() => undefined),
      ),
    );
    for (const name of this.#owned) this.#pools.delete(name);
    this.#owned.clear();
  }
}

export function unknownServer(name: string, known: readonly string[]): InputError {
  return new InputError('unknown_server', `no server named "${name}" in the config's "servers" (known: ${known.join(', ')})`, {
    server: name,
  });
}

/** A server's name as a flag gives it (`--server`): the shape of a key of the config's `servers`, or "default". Exit 2 otherwise. */
export function assertServerName(name: string): void {
  if (!/^[a-z][a-z0-9_]{0,39}$/.test(name))
    throw usage(`--server must be a server name from the config's "servers" (or "default"), got ${JSON.stringify(name)}`);
}
