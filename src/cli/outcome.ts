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
  if (tenants.some((t) => t.status === 'failed')) return 1;
  if (tenants.some((t) => t.status === 'skipped' && t.reason === 'locked')) return 3;
  return 0;
}
