import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { snapshot } from './support/snapshot.js';

let db: TestDatabase;
let cli: ReturnType<typeof cliOn>;
let before: string;
beforeAll(async () => {
  db = await createTestDatabase();
  cli = cliOn(db.url);
  expect((await cli(['tenant', 'create', 'acme'])).code).toBe(0);
  before = await snapshot(db.pool);
});
const scratch: string[] = [];
/** A scratch folder, removed when the file ends. */
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}
afterAll(async () => {
  await db.drop();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** Exit 2, one line on stderr naming the problem, a JSON error with --json, and the database untouched. */
async function refused(args: string[], names: RegExp, code = 'usage') {
  const r = await cli(args);
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(names);
  const j = await cli([...args, '--json']);
  expect(j.code).toBe(2);
  const doc = j.json<{ version: number; error: { code: string; message: string } }>();
  expect(doc.version).toBe(1);
  if (code !== 'usage') expect(doc.error.code).toBe(code);
  expect(doc.error.message).toMatch(names);
  expect(await snapshot(db.pool)).toBe(before);
}

describe('bad input exits 2, names the problem and changes nothing', () => {
  const invalid: [string, RegExp][] = [
    ["o'brien", /invalid tenant id "o'brien"/],
    ['two words', /invalid tenant id "two words"/],
    ['ünïcode', /invalid tenant id "ünïcode"/],
    ['Acme', /invalid tenant id "Acme"/],
    ['a'.repeat(41), /41 characters long; the limit is 40/],
    ['1abc', /must start with a lowercase letter/],
    ['x;drop', /invalid tenant id/],
  ];
  for (const [id, message] of invalid) {
    it(`refuses the id ${JSON.stringify(id)} on create, show, remove and migrate`, async () => {
      await refused(['tenant', 'create', id], message, 'invalid_tenant_id');
      await refused(['tenant', 'show', id], message, 'invalid_tenant_id');
      await refused(['tenant', 'remove', id, '--yes'], message, 'invalid_tenant_id');
      await refused(['migrate', '--tenant', id], message, 'invalid_tenant_id');
    });
  }

  it('refuses reserved names: public, pg_*, the control schema', async () => {
    const noPrefix = tempDir('tenantctl-cfg-');
    writeFileSync(
      join(noPrefix, 'tenantctl.config.json'),
      JSON.stringify({
        schemaPrefix: '',
        tenantMigrations: join(process.cwd(), 'migrations/tenant'),
        sharedMigrations: join(process.cwd(), 'migrations/shared'),
      }),
    );
    const bare = cliOn(db.url, { cwd: noPrefix });
    for (const id of ['public', 'pg_temp', 'pg_catalog', 'tenantctl', 'information_schema']) {
      const r = await bare(['tenant', 'create', id, '--json']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.json<{ error: { code: string; message: string } }>().error).toMatchObject({ code: 'reserved_tenant_id' });
      expect(r.stderr).toContain(`"${id}" is reserved`);
    }
    expect(await snapshot(db.pool)).toBe(before);
  });

  it('refuses an unknown tenant', async () => {
    await refused(['tenant', 'show', 'nobody'], /unknown tenant "nobody"/, 'unknown_tenant');
    await refused(['tenant', 'update', 'nobody', '--name', 'x'], /unknown tenant "nobody"/, 'unknown_tenant');
    await refused(['tenant', 'remove', 'nobody', '--yes'], /unknown tenant "nobody"/, 'unknown_tenant');
    await refused(['tenant', 'restore', 'nobody'], /unknown tenant "nobody"/, 'unknown_tenant');
    await refused(['migrate', '--tenant', 'nobody'], /unknown tenant "nobody"/, 'unknown_tenant');
    await refused(['migrate', 'down', '--tenant', 'nobody'], /unknown tenant "nobody"/, 'unknown_tenant');
    await refused(['exec', '--tenant', 'nobody', '-c', 'SELECT 1'], /unknown tenant "nobody"/, 'unknown_tenant');
  });

  it('refuses to create a tenant that exists otherwise than asked (another key), even among new ones', async () => {
    await refused(['tenant', 'create', 'acme', '--key', 'other'], /tenant "acme" already exists/, 'tenant_exists');
    await refused(['tenant', 'create', 'fresh', 'acme', '--name', 'Not Acme'], /tenant "acme" already exists/, 'tenant_exists');
  });

  it('refuses remove without --yes when there is no terminal', async () => {
    await refused(['tenant', 'remove', 'acme'], /without --yes/, 'confirmation_required');
    await refused(['tenant', 'remove', 'acme', '--purge'], /refusing to purge acme without --yes/, 'confirmation_required');
  });

  it('refuses an unknown config key and a wrong type, naming them', async () => {
    const dir = tempDir('tenantctl-cfg-');
    writeFileSync(join(dir, 'tenantctl.config.json'), JSON.stringify({ schemaPrefx: 't_', concurrency: 'many' }));
    const bad = cliOn(db.url, { cwd: dir });
    const r = await bad(['tenant', 'list']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown key "schemaPrefx"/);
    expect(r.stderr).toMatch(/"concurrency" must be an integer from 1 to 256, got "many"/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const missing = await cli(['--config', '/nonexistent/tenantctl.json', 'tenant', 'list']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/does not exist/);
    expect(await snapshot(db.pool)).toBe(before);
  });

  it('refuses usage errors: unknown commands and flags, bad numbers', async () => {
    await refused(['tenant', 'frobnicate'], /unknown command 'frobnicate'/);
    await refused(['migrate', '--concurrency', '0'], /--concurrency must be a whole number of at least 1/);
    await refused(['migrate', '--bogus'], /unknown option '--bogus'/);
    await refused(['migrate', '--to', 'nope'], /no tenant migration named "nope"/, 'unknown_migration');
    await refused(['tenant', 'update', 'acme', '--status', 'archived'], /status must be one of active, suspended/, 'invalid_status');
    await refused(['tenant', 'create', 'x1', '--set', 'novalue'], /--set wants key=value/);
  });

  it('refuses bad input before connecting: exit 2 even when the server is down, command by command', async () => {
    const down = cliOn('postgresql://postgres@127.0.0.1:1/nowhere');
    const cases: string[][] = [
      ['tenant', 'create', 'Bad!'],
      ['tenant', 'remove', 'acme'],
      ['tenant', 'remove', 'Bad!', '--yes'],
      ['tenant', 'show', 'Bad!'],
      ['tenant', 'update', 'Bad!', '--name', 'x'],
      ['tenant', 'update', 'acme'],
      ['tenant', 'restore', 'Bad!'],
      ['tenant', 'clone', 'Bad!', 'b'],
      ['tenant', 'clone', 'a', 'a'],
      ['migrate', '--tenant', 'x y'],
      ['migrate', 'status', '--tenant', 'Bad!'],
      ['migrate', 'down', '--tenant', 'Bad!'],
      ['migrate', 'new', 'bad name'],
      ['exec', '--tenant', 'Bad!', '-c', 'SELECT 1'],
      ['exec', '--tenant', 'acme', '-c', 'SELECT 1; COMMIT; SELECT 2'],
      ['copy', '--from', 'Bad!', '--to', 'b'],
      ['move', '--from', 'a', '--to', 'Bad!'],
      ['move', '--from', 'a', '--to', 'b', '--table', ''],
      ['verify', '--tenant', 'Bad!'],
      ['verify', '--check', 'nonsense'],
      ['verify', '--fail-on', 'sometimes'],
    ];
    for (const args of cases) {
      const r = await down(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    const none = await down([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/Usage: tenantctl/);
  });

  it('reports an unreachable server as exit 3 with one line', async () => {
    const r = await cliOn('postgresql://postgres@127.0.0.1:1/nowhere')(['tenant', 'list']);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot reach the database/);
  });
});
