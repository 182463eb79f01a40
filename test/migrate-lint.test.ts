import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOn, runCli } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { scratchProject } from './support/migrations.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

interface LintJson {
  ok: boolean;
  failOn: string;
  migrations: { name: string; file: string; kind: string; transactional: boolean }[];
  findings: {
    rule: string;
    level: string;
    file: string;
    line: number | null;
    migration: string;
    statement: string;
    message: string;
    fix: string;
  }[];
  summary: { error: number; warn: number; info: number };
}

/** Nothing listens there: a command that needs no database still works, one that needs it would exit 3. */
const NO_SERVER = 'postgresql://postgres@127.0.0.1:1/none';

describe('tenantctl migrate lint', () => {
  it('lints what is pending per tenant, and migrate --lint refuses to migrate when it fails', async () => {
    const proj = scratchProject();
    writeFileSync(
      join(proj.dir, 'tenantctl.config.json'),
      JSON.stringify({ controlSchema: 'ctl_lint', schemaPrefix: 'lint_', sharedSchema: 'lint_shared' }),
    );
    const cli = cliOn(db.url, { cwd: proj.dir });
    expect((await cli(['tenant', 'create', 'acme', 'globex'])).code).toBe(0);

    const none = await cli(['migrate', 'lint', '--json']);
    expect(none.code).toBe(0);
    expect(none.json<LintJson>()).toMatchObject({ version: 1, ok: true, migrations: [], findings: [] });

    proj.add('1700000010000_notes', 'CREATE TABLE notes (id bigint PRIMARY KEY, body text);');
    const clean = await cli(['migrate', 'lint', '--json']);
    expect(clean.code).toBe(0);
    expect(clean.json<LintJson>().migrations.map((m) => m.name)).toEqual(['1700000010000_notes']);
    expect((await cli(['migrate', '--lint', '--tenant', 'acme'])).code).toBe(0);

    // acme has notes (with rows, as far as lint knows); for globex the same run creates it.
    proj.add(
      '1700000011000_notes_body',
      '-- Up Migration\n-- search notes by body\nCREATE INDEX notes_body_idx ON notes (body);\n\n-- Down Migration\nDROP INDEX notes_body_idx;\n',
    );
    const r = await cli(['migrate', 'lint', '--json']);
    expect(r.code).toBe(1);
    const doc = r.json<LintJson>();
    expect(doc.ok).toBe(false);
    expect(doc.migrations.map((m) => m.name)).toEqual(['1700000010000_notes', '1700000011000_notes_body']);
    expect(doc.findings).toEqual([
      {
        rule: 'require-concurrent-index-creation',
        level: 'error',
        file: join('migrations', 'tenant', '1700000011000_notes_body.sql'),
        line: 3,
        migration: '1700000011000_notes_body',
        statement: 'CREATE INDEX notes_body_idx ON notes (body)',
        message: expect.stringContaining('existing table notes'),
        fix: expect.stringContaining('CONCURRENTLY'),
      },
    ]);
    expect(doc.summary).toEqual({ error: 1, warn: 0, info: 0 });
    expect((await cli(['migrate', 'lint', '--tenant', 'globex', '--json'])).code).toBe(0);

    const human = await cli(['migrate', 'lint']);
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(join('migrations', 'tenant', '1700000011000_notes_body.sql'));
    expect(human.stdout).toContain('3: CREATE INDEX without CONCURRENTLY');
    expect(human.stdout).toContain('[require-concurrent-index-creation]');
    expect(human.stdout).toContain('FAILED: 1 finding at or above error');

    const refused = await cli(['migrate', '--lint', '--json']);
    expect(refused.code).toBe(1);
    expect(refused.json()).toMatchObject({
      version: 1,
      refused: 'lint',
      tenants: [],
      lint: { ok: false, findings: [{ rule: 'require-concurrent-index-creation' }] },
    });
    const status = (await cli(['migrate', 'status', '--json'])).json<{ tenants: { id: string; pending: string[] }[] }>();
    expect(status.tenants).toEqual([
      expect.objectContaining({ id: 'acme', pending: ['1700000011000_notes_body'] }),
      expect.objectContaining({ id: 'globex', pending: ['1700000010000_notes', '1700000011000_notes_body'] }),
    ]);
    const indexes = await db.pool.query(`SELECT schemaname FROM pg_indexes WHERE indexname = 'notes_body_idx'`);
    expect(indexes.rows).toEqual([]);

    // Without --lint the same migrate runs.
    expect((await cli(['migrate'])).code).toBe(0);
    expect((await db.pool.query(`SELECT schemaname FROM pg_indexes WHERE indexname = 'notes_body_idx' ORDER BY 1`)).rows).toEqual([
      { schemaname: 'lint_acme' },
      { schemaname: 'lint_globex' },
    ]);
  });

  it('FILE arguments need no database; --fail-on decides whether warnings fail', async () => {
    const proj = scratchProject();
    proj.add('1700000010000_drop_old_index', 'DROP INDEX customers_old_idx;');
    const file = join('migrations', 'tenant', '1700000010000_drop_old_index.sql');
    const cli = (args: string[]) => runCli(['--database-url', NO_SERVER, ...args], { cwd: proj.dir });

    const warn = await cli(['migrate', 'lint', file, '--json']);
    expect(warn.code).toBe(0);
    expect(warn.json<LintJson>()).toMatchObject({
      ok: true,
      failOn: 'error',
      findings: [{ rule: 'require-concurrent-index-deletion', level: 'warn', file, line: 2 }],
    });
    const strict = await cli(['migrate', 'lint', file, '--fail-on', 'warn', '--json']);
    expect(strict.code).toBe(1);
    expect(strict.json<LintJson>()).toMatchObject({ ok: false, failOn: 'warn' });

    const ok = await cli(['migrate', 'lint', join('migrations', 'tenant', '1700000001000_create_customers.js')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('ok: nothing at or above error');
  });

  it('bad input is exit 2 before any connection', async () => {
    const proj = scratchProject();
    const cli = (args: string[]) => runCli(['--database-url', NO_SERVER, ...args], { cwd: proj.dir });
    const missing = await cli(['migrate', 'lint', 'nope.sql', '--json']);
    expect(missing.code).toBe(2);
    expect(missing.json()).toMatchObject({ version: 1, error: { code: 'file_not_found' } });
    expect((await cli(['migrate', 'lint', 'package.json'])).code).toBe(2);
    expect((await cli(['migrate', 'lint', 'migrations/tenant/1700000001000_create_customers.js', '--tenant', 'acme'])).code).toBe(2);
    expect((await cli(['migrate', 'lint', '--fail-on', 'nope'])).code).toBe(2);
    expect((await cli(['migrate', '--lint', '--fail-on', 'nope'])).code).toBe(2);
    // The pending lint needs the database: unreachable is exit 3.
    expect((await cli(['migrate', 'lint'])).code).toBe(3);
  });
});
