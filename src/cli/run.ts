import { assertTenantId, openTenantctl, toTenantctlError, type Logger, type RawConfig, type Tenantctl } from '../index.js';
import { colours, line, type GlobalFlags, type Io } from './io.js';
import type { Outcome } from './outcome.js';
import { Progress } from './progress.js';

export interface CommandEnv {
  io: Io;
  flags: GlobalFlags;
  progress: Progress;
  c: ReturnType<typeof colours>;
}


function logger(io: Io, flags: GlobalFlags): Logger {
  return {
    info: (l) => (flags.quiet ? undefined : line(io.stderr, l)),
    warn: (l) => line(io.stderr, `warning: ${l}`),
    debug: (l) => (flags.verbose ? line(io.stderr, l) : undefined),
  };
}

/**
 * The one place a command is run: open (config, connection), call the core,
 * print, close, and pick the exit code. Every error becomes one line (a stack
 * only with --verbose) or the JSON error envelope.
 */
export async function runCommand(
  io: Io,
  flags: GlobalFlags,
  body: (tc: Tenantctl, env: CommandEnv) => Promise<Outcome>,
  /** Config values a command takes from its own flags (e.g. --concurrency): flags beat config. */
  overrides: RawConfig = {},
  /** Input checks that need no database: they run before connecting, so bad input exits 2 even with the server down. */
  precheck?: () => void,
): Promise<number> {
  const c = colours(io);
  const progress = new Progress(io, flags);
  let tc: Tenantctl | undefined;
  try {
    precheck?.();
    tc = await openTenantctl({
      databaseUrl: flags.databaseUrl,
      configFile: flags.config,
      config: overrides,
      cwd: io.cwd,
      env: io.env,
      log: logger(io, flags),
      onProgress: (e) => progress.tenant(e),
    });
    const outcome = await body(tc, { io, flags, progress, c });
    progress.stop();
    if (flags.json) line(io.stdout, JSON.stringify({ version: 1, ...outcome.json }));
    else if (!flags.quiet || outcome.exitCode !== 0) for (const l of outcome.human) line(io.stdout, l);
    return outcome.exitCode;
  } catch (err) {
    progress.stop();
    return reportError(io, flags, err);
  } finally {
    await tc?.close();
  }
}

export function reportError(io: Io, flags: GlobalFlags, err: unknown): number {
  const e = toTenantctlError(err);
  if (flags.json) line(io.stdout, JSON.stringify({ version: 1, error: { code: e.code, message: e.message, ...e.details } }));
  line(io.stderr, `${colours({ ...io, stdout: io.stderr }).red('error:')} ${e.message}`);
  if (flags.verbose && err instanceof Error && err.stack) line(io.stderr, err.stack);
  return e.exitCode;
}

/** How command modules run their body: main binds io and records the exit code. */
export type RunFn = (
  cmd: import('commander').Command,
  body: Parameters<typeof runCommand>[2],
  overrides?: RawConfig,
  precheck?: () => void,
) => Promise<void>;

/** A precheck that validates tenant ids before any connection is made. */
export function idsPrecheck(ids: readonly (string | undefined)[] | undefined): () => void {
  return () => {
    for (const id of ids ?? []) if (id !== undefined) assertTenantId(id);
  };
}
