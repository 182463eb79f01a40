import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/tenantctl.js', import.meta.url));
export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  json<T = Record<string, unknown>>(): T;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  /** Replace the environment instead of extending process.env. */
  cleanEnv?: boolean;
}

/** Runs the built CLI as a user would: a child process, its output, its exit code. */
export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const base = options.cleanEnv ? { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' } : process.env;
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? REPO,
      env: { ...base, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.stdin.end(options.input ?? '');
    child.on('close', (code, signal) =>
      resolve({
        code,
        signal,
        stdout,
        stderr,
        json<T>() {
          return JSON.parse(stdout) as T;
        },
      }),
    );
  });
}

/** Runs the CLI against a database URL, with the repository's example migrations. */
export function cliOn(url: string, extra: CliOptions = {}) {
  return (args: string[], options: CliOptions = {}) =>
    runCli(['--database-url', url, ...args], { ...extra, ...options, env: { ...extra.env, ...options.env } });
}
