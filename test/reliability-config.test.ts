import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOn, REPO } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { snapshot } from './support/snapshot.js';
import { scratchDir } from './support/scratch.js';

// Misconfiguration is bad input: a config PostgreSQL would refuse, or one that points tenantctl at a
// schema that is not its own, is exit 2 before any change, whatever the command.

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  // An application schema with its own privileges, as a real database has.
  await db.pool.query(
    `CREATE SCHEMA app; CREATE TABLE app.orders (id int PRIMARY KEY); GRANT USAGE ON SCHEMA app TO PUBLIC; GRANT SELECT ON app.orders TO PUBLIC`,
  );
});
afterAll(async () => {
  await db.drop();
});

/** The CLI in a project folder whose tenantctl.config.json holds `config` (migrations: the example app's). */
function withConfig(config: Record<string, unknown>) {
  const dir = scratchDir('rel-config');
  const full = { tenantMigrations: join(REPO, 'migrations/tenant'), sharedMigrations: join(REPO, 'migrations/shared'), ...config };
  writeFileSync(join(dir, 'tenantctl.config.json'), JSON.stringify(full));
  return cliOn(db.url, { cwd: dir });
}

/** A schema's privileges as text; null for the defaults, undefined when there is no such schema. */
async function schemaAcl(name: string): Promise<string | null | undefined> {
  return (await db.pool.query<{ acl: string | null }>(`SELECT nspacl::text AS acl FROM pg_namespace WHERE nspname = $1`, [name])).rows[0]
    ?.acl;
}

describe('a config that cannot work is exit 2 before any change', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'lockTimeout past what PostgreSQL takes',
      { lockTimeout: 2147483648 },
      /"lockTimeout" must be a duration PostgreSQL accepts, at most 2147483647ms/,
    ],
    ['lockTimeout of 25 days', { lockTimeout: '25d' }, /"lockTimeout" must be a duration PostgreSQL accepts/],
    ['statementTimeout of 1e20', { statementTimeout: 1e20 }, /"statementTimeout" must be a duration PostgreSQL accepts/],
    ['statementTimeout that would round to no limit', { statementTimeout: '1us' }, /"statementTimeout" must be a duration of at least 1ms/],
    ['controlSchema pg_toast', { controlSchema: 'pg_toast' }, /"controlSchema" must be a schema of your own, not one of PostgreSQL's/],
    ['controlSchema information_schema', { controlSchema: 'information_schema' }, /"controlSchema" must be a schema of your own/],
    ['sharedSchema pg_catalog', { sharedSchema: 'pg_catalog' }, /"sharedSchema" must be a schema of your own/],
  ];
  for (const [what, config, message] of cases) {
    it(`refuses ${what}, on init, create and migrate, with nothing created`, async () => {
      const before = await snapshot(db.pool);
      const cli = withConfig(config);
      for (const args of [['init'], ['tenant', 'create', 'acme'], ['migrate']]) {
        const r = await cli([...args, '--json']);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
        expect(r.json<{ error: { code: string; message: string } }>().error).toMatchObject({
          code: 'invalid_config',
          message: expect.stringMatching(message),
        });
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
      }
      expect(await snapshot(db.pool)).toBe(before);
      expect(await schemaAcl('tenantctl')).toBeUndefined();
    });
  }

  for (const schema of ['public', 'app']) {
    it(`refuses a control schema that exists and is not tenantctl's ("${schema}"), leaving its privileges alone`, async () => {
      const before = await snapshot(db.pool);
      const acl = await schemaAcl(schema);
      const cli = withConfig({ controlSchema: schema, sharedSchema: schema === 'public' ? 'app' : 'public' });
      for (const args of [['init'], ['tenant', 'create', 'acme']]) {
        const r = await cli([...args, '--json']);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
        expect(r.json<{ error: { code: string; message: string } }>().error).toMatchObject({
          code: 'control_schema_taken',
          message: expect.stringContaining(`schema "${schema}" already exists and is not tenantctl's control schema`),
        });
      }
      expect(await schemaAcl(schema)).toBe(acl);
      expect(await snapshot(db.pool)).toBe(before);
    });
  }

  it('takes the longest timeouts PostgreSQL takes, and reruns init on its own control schema', async () => {
    const cli = withConfig({ lockTimeout: 2147483647, statementTimeout: '24d' });
    const first = await cli(['init']);
    expect(first.code, first.stderr).toBe(0);
    const acl = await schemaAcl('tenantctl');
    expect(acl).not.toMatch(/(^|[{,])=U/);
    const again = await cli(['tenant', 'create', 'acme']);
    expect(again.code, again.stderr).toBe(0);
    expect((await cli(['init'])).code).toBe(0);
    expect(await schemaAcl('tenantctl')).toBe(acl);
  });
});
