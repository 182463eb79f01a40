import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { oneLine, toTenantctlError } from '../errors.js';
import { openTenantctl } from '../runtime/open.js';
import type { Config, Logger, RawConfig, Tenantctl } from '../index.js';
import { colours, line, type GlobalFlags, type Io } from './io.js';
import type { Outcome } from './outcome.js';
import { Progress } from './progress.js';

/** What a command module's registration needs from main. */
export interface Registrars {
  run: RunFn;
  runOff: RunOfflineFn;
  io: Io;
  flagsOf: (cmd: Command) => GlobalFlags;
}

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
export interface RunOptions {
  /** The core's validator for the command's options: it runs before connecting, so bad input exits 2 even with the server down. */
  validate?: () => void;
  /** Config values a command takes from its own flags: flags beat config. */
  overrides?: RawConfig;
}

export async function runCommand(
  io: Io,
  flags: GlobalFlags,
  body: (tc: Tenantctl, env: CommandEnv) => Promise<Outcome>,
  options: RunOptions = {},
): Promise<number> {
  const c = colours(io);
  const progress = await Progress.for(io, flags);
  let tc: Tenantctl | undefined;
  try {
    options.validate?.();
    tc = await openTenantctl({
      databaseUrl: flags.databaseUrl,
      configFile: flags.config,
      config: options.overrides ?? {},
      cwd: io.cwd,
      env: io.env,
      log: logger(io, flags),
      onProgress: (e) => progress.tenant(e),
    });
    const outcome = await body(tc, { io, flags, progress, c });
    progress.stop();
    return print(io, flags, outcome);
  } catch (err) {
    progress.stop();
    return reportError(io, flags, err);
  } finally {
    await tc?.close();
  }
}

/** A command that needs no database (migrate new): config only, then print as any other. */
export async function runOffline(
  io: Io,
  flags: GlobalFlags,
  body: (config: Config, env: CommandEnv) => Promise<Outcome>,
  options: RunOptions = {},
): Promise<number> {
  const progress = await Progress.for(io, flags);
  try {
    options.validate?.();
    const config = loadConfig({ cwd: io.cwd, file: flags.config, overrides: options.overrides });
    return print(io, flags, await body(config, { io, flags, progress, c: colours(io) }));
  } catch (err) {
    return reportError(io, flags, err);
  }
}

function print(io: Io, flags: GlobalFlags, outcome: Outcome): number {
  if (flags.json) line(io.stdout, JSON.stringify({ version: 1, ...outcome.json }));
  else if (!flags.quiet || outcome.exitCode !== 0) for (const l of outcome.human) line(io.stdout, l);
  const c = colours({ ...io, stdout: io.stderr });
  for (const l of outcome.errors ?? []) line(io.stderr, `${c.red('error:')} ${oneLine(l)}`);
  return outcome.exitCode;
}

export function reportError(io: Io, flags: GlobalFlags, err: unknown): number {
  const e = toTenantctlError(err);
  const message = oneLine(e.message);
  if (flags.json) line(io.stdout, JSON.stringify({ version: 1, error: { code: e.code, message, ...e.details } }));
  line(io.stderr, `${colours({ ...io, stdout: io.stderr }).red('error:')} ${message}`);
  if (flags.verbose && err instanceof Error && err.stack) line(io.stderr, err.stack);
  return e.exitCode;
}

/** How command modules run their body: main binds io and records the exit code. */
export type RunFn = (cmd: import('commander').Command, body: Parameters<typeof runCommand>[2], options?: RunOptions) => Promise<void>;
export type RunOfflineFn = (
  cmd: import('commander').Command,
  body: Parameters<typeof runOffline>[2],
  options?: RunOptions,
) => Promise<void>;
