import type { ExitCode } from '../index.js';

/** What a command hands back to the one place that prints and exits. */
export interface Outcome {
  /** The JSON document's body (version is added). */
  json: Record<string, unknown>;
  /** Lines for people on stdout. */
  human: string[];
  /** Failures for people, on stderr (one line each). */
  errors?: string[];
  exitCode: ExitCode;
}

/** Fleet results: failures mean exit 1; otherwise tenants skipped for a held lock mean 3 (retry). */
export function fleetExitCode(tenants: readonly { status: string; reason?: string }[]): ExitCode {
  if (tenants.some((t) => t.status === 'failed' && t.reason !== 'unreachable')) return 1;
  // A tenant another run holds, or one on a server that could not be reached: worth retrying.
  if (tenants.some((t) => (t.status === 'skipped' && t.reason === 'locked') || t.reason === 'unreachable')) return 3;
  return 0;
}
