import type { Context } from '../../context.js';

/**
 * A test hook: with TENANTCTL_TEST_PAUSE_AT=<step>, a relocation stops at that
 * step, says so on stderr ("paused at <step>") and waits for ever, so a test
 * can kill -9 it at a known point and check what the kill left. Steps, in
 * order: locked, cleared, built, subscribed (logical mode), frozen, copied, target-committed, flipped,
 * source-archiving. Without the variable it does nothing.
 */
export type PauseStep =
  'locked' | 'cleared' | 'built' | 'subscribed' | 'frozen' | 'copied' | 'target-committed' | 'flipped' | 'source-archiving';

export async function pauseAt(ctx: Context, step: PauseStep): Promise<void> {
  if (process.env.TENANTCTL_TEST_PAUSE_AT !== step) return;
  ctx.log.warn(`paused at ${step} (TENANTCTL_TEST_PAUSE_AT)`);
  await new Promise<never>(() => setInterval(() => undefined, 60_000));
}
