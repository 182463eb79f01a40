// The statements one server's checks run beside their lanes' own: a fair semaphore that grows as lanes end.

/**
 * Statement slots shared by the checks of one server. Each check queues its statements under its
 * own name, and a freed slot goes to the queues in turn (round robin): a check that queues many
 * short statements (ownership's probes) does not starve one that queues a few long ones (drift's
 * digests), and neither waits while the other has a slot it does not use. `free` adds slots for
 * good: a lane that ends gives its session's place to the checks still running.
 */
export class StatementSlots {
  private available: number;
  private readonly queues = new Map<string, (() => void)[]>();
  /** Holders with a statement waiting, in the order they get the next slot. */
  private readonly turn: string[] = [];

  constructor(size: number) {
    this.available = Math.max(1, size);
  }

  /** Runs `fn` in a slot of `holder`'s, when one is free. */
  async run<T>(holder: string, fn: () => Promise<T>): Promise<T> {
    await this.acquire(holder);
    try {
      return await fn();
    } finally {
      this.available++;
      this.dispatch();
    }
  }

  /** Adds `n` slots for the rest of the run. */
  free(n = 1): void {
    this.available += n;
    this.dispatch();
  }

  private acquire(holder: string): Promise<void> {
    if (this.available > 0 && this.turn.length === 0) {
      this.available--;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const queue = this.queues.get(holder) ?? [];
      queue.push(resolve);
      this.queues.set(holder, queue);
      if (!this.turn.includes(holder)) this.turn.push(holder);
    });
  }

  private dispatch(): void {
    while (this.available > 0 && this.turn.length > 0) {
      const holder = this.turn.shift()!;
      const queue = this.queues.get(holder)!;
      const wake = queue.shift()!;
      if (queue.length > 0) this.turn.push(holder);
      this.available--;
      wake();
    }
  }
}
