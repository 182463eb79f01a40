import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, REPO, runCli } from './support/cli.js';

// The CLI with no connection settings at all: it must start its own real server.
let cwd: string;
const run = (args: string[]) => runCli(['--config', join(REPO, 'test/support/example.config.json'), ...args], { cwd, cleanEnv: true });

beforeAll(() => {
  cwd = mkdtempSync(join(tmpdir(), 'tenantctl-embedded-'));
  chmodSync(cwd, 0o755);
});
afterAll(() => {
  rmSync(cwd, { recursive: true, force: true });
});

describe('embedded Postgres', () => {
  it('starts a real server with data under .tenantctl/, says so, and keeps the data between commands', async () => {
    const created = await run(['tenant', 'create', 'acme']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toMatch(/using the embedded Postgres \(data in .*\.tenantctl\/data\)/);
    expect(existsSync(join(cwd, '.tenantctl', 'data', 'PG_VERSION'))).toBe(true);
    const list = await run(['tenant', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.json<{ tenants: { id: string }[] }>().tenants.map((t) => t.id)).toEqual(['acme']);
    // Stopped after the command: no lock, no server left running.
    expect(existsSync(join(cwd, '.tenantctl', 'lock'))).toBe(false);
    expect(existsSync(join(cwd, '.tenantctl', 'data', 'postmaster.pid'))).toBe(false);
  });

  it('two commands started at once: the second waits for the first, neither corrupts the data', async () => {
    const [a, b] = await Promise.all([run(['tenant', 'create', 'one']), run(['tenant', 'create', 'two'])]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(`${a.stderr}${b.stderr}`).toMatch(/waiting for another tenantctl \(pid \d+\)/);
    const list = await run(['tenant', 'list', '--json']);
    expect(list.json<{ tenants: { id: string }[] }>().tenants.map((t) => t.id)).toEqual(['acme', 'one', 'two']);
  });

  it('after kill -9 of a command holding the server, the next command takes over and works', async () => {
    const child = spawn(
      process.execPath,
      [BIN, '--config', join(REPO, 'test/support/example.config.json'), 'exec', '--tenant', 'acme', '-c', 'SELECT pg_sleep(30)'],
      {
        cwd,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
        stdio: 'ignore',
      },
    );
    const pidFile = join(cwd, '.tenantctl', 'data', 'postmaster.pid');
    for (let i = 0; i < 600 && !existsSync(pidFile); i++) await sleep(50);
    // The command is inside its statement once the server shows it running.
    const port = Number(readFileSync(pidFile, 'utf8').split('\n')[3]);
    let running = false;
    for (let i = 0; i < 1200 && !running; i++) {
      // The pid file appears before the server accepts connections: try again until it does.
      const watcher = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: 'tenantctl', database: 'postgres' });
      try {
        await watcher.connect();
        const r = await watcher.query(
          `SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()`,
        );
        running = (r.rowCount ?? 0) > 0;
      } catch {
        running = false;
      } finally {
        await watcher.end().catch(() => undefined);
      }
      if (!running) await sleep(50);
    }
    expect(running).toBe(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(readFileSync(join(cwd, '.tenantctl', 'lock', 'pid'), 'utf8').trim()).toBe(String(child.pid));
    const after = await run(['tenant', 'list', '--json']);
    expect(after.code, after.stderr).toBe(0);
    expect(after.json<{ tenants: unknown[] }>().tenants).toHaveLength(3);
  });

  it('works as a normal (non-root) user too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenantctl-embedded-user-'));
    chmodSync(dir, 0o755);
    const args = [BIN, '--config', join(REPO, 'test/support/example.config.json'), 'tenant', 'create', 'mine', '--json'];
    let command = process.execPath;
    let argv = args;
    if (process.getuid?.() === 0) {
      // As root, run it as the postgres OS user: a normal account with nothing special.
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
      chownSync(dir, uid, gid);
      command = 'runuser';
      argv = ['-u', 'postgres', '--', process.execPath, ...args];
    }
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(command, argv, { cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ summary: { created: 1 } });
    expect(existsSync(join(dir, '.tenantctl', 'data', 'PG_VERSION'))).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });
});
