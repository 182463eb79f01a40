import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { InputError, type RawConfig } from '../../src/index.js';

/** The InputError resolveConfig throws for `raw`, or undefined when it accepts it. */
function refusal(raw: unknown): InputError | undefined {
  try {
    resolveConfig(raw as RawConfig, '/proj', 'tenantctl.config.json');
    return undefined;
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
}

describe('config validation', () => {
  it('servers: names, URLs and ${VAR} references are checked', () => {
    const bad = (servers: unknown, env: NodeJS.ProcessEnv = {}) => {
      try {
        resolveConfig({ servers } as RawConfig, '/proj', 'c', env);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(bad({ default: 'postgresql://x/y' })).toMatch(/"default" is the home server/);
    expect(bad({ 'EU-1': 'postgresql://x/y' })).toMatch(/server names are/);
    expect(bad({ eu: 'mysql://x/y' })).toMatch(/"servers.eu" must be a postgresql:\/\/ connection URL/);
    expect(bad({ eu: 'postgresql://u:${NOPE}@x/y' })).toMatch(/uses \$\{NOPE\}, which is not set/);
    expect(bad(['postgresql://x/y'])).toMatch(/"servers" must be an object/);
    expect(bad({ eu: 'postgresql://x/y' })).toBeUndefined();
  });

  it('accepts every key with a good value, and resolves relative folders against the base folder', () => {
    const c = resolveConfig(
      {
        controlSchema: 'tc_control',
        schemaPrefix: '',
        sharedSchema: 'shared',
        tenantMigrations: 'db/tenant',
        sharedMigrations: '/abs/shared',
        ownershipColumn: 'org_id',
        roles: false,
        concurrency: 256,
        lockTimeout: 0,
        statementTimeout: ' 2 min ',
        lockRetries: 0,
        servers: { eu: 'postgresql://app:${TC_PW}@eu.internal/app', us: '${TC_US_URL}' },
        placement: 'fewest-tenants',
        citus: { referenceTables: ['plans', 'currencies'] },
      },
      '/proj',
      'config',
      { TC_PW: 'p@ss/word', TC_US_URL: 'postgresql://app@us.internal/app?sslmode=require' },
    );
    expect(c).toEqual({
      controlSchema: 'tc_control',
      schemaPrefix: '',
      sharedSchema: 'shared',
      tenantMigrations: '/proj/db/tenant',
      sharedMigrations: '/abs/shared',
      ownershipColumn: 'org_id',
      roles: false,
      concurrency: 256,
      lockTimeout: '0ms',
      statementTimeout: '2min',
      lockRetries: 0,
      servers: { eu: 'postgresql://app:p%40ss%2Fword@eu.internal/app', us: 'postgresql://app@us.internal/app?sslmode=require' },
      placement: 'fewest-tenants',
      citus: { referenceTables: ['plans', 'currencies'] },
    });
  });

  it('checks "citus": referenceTables is "all", "none" or a list of table names; absent is null', () => {
    const bad = (citus: unknown) => {
      try {
        resolveConfig({ citus }, '/proj');
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(resolveConfig({}, '/proj').citus).toBeNull();
    expect(resolveConfig({ citus: {} }, '/proj').citus).toEqual({ referenceTables: 'all' });
    expect(resolveConfig({ citus: { referenceTables: 'none' } }, '/proj').citus).toEqual({ referenceTables: 'none' });
    expect(bad({ referenceTables: 'some' })).toMatch(/"citus" must be an object such as \{"referenceTables": "all"\}.*got "some"/);
    expect(bad({ referenceTables: ['Bad Name'] })).toMatch(/"referenceTables" got \["Bad Name"\]/);
    expect(bad({ shards: 2 })).toMatch(/unknown key "shards"/);
    expect(bad(true)).toMatch(/"citus" must be an object/);
  });

  const NAME = 'a lowercase SQL name ([a-z_][a-z0-9_]*, at most 63 characters)';
  const PREFIX = 'a lowercase prefix ([a-z_][a-z0-9_]*, at most 14 characters)';
  const CONCURRENCY = 'an integer from 1 to 256';
  const DURATION = 'a duration: milliseconds as a number, or text such as "5s", "500ms", "2min"';
  it.each([
    ['controlSchema', 'Bad-Name', NAME],
    ['controlSchema', 'x'.repeat(64), NAME],
    ['schemaPrefix', 'a_very_long_prefix_', PREFIX],
    ['schemaPrefix', 1, PREFIX],
    ['sharedSchema', '1abc', NAME],
    ['tenantMigrations', '', 'a non-empty path'],
    ['ownershipColumn', null, NAME],
    ['roles', 'yes', 'true or false'],
    ['concurrency', 0, CONCURRENCY],
    ['concurrency', 257, CONCURRENCY],
    ['concurrency', 2.5, CONCURRENCY],
    ['concurrency', '4', CONCURRENCY],
    ['lockTimeout', 'soon', DURATION],
    ['lockTimeout', -1, DURATION],
    ['statementTimeout', '5 weeks', DURATION],
  ])('refuses %s = %j: must be %s', (key, value, want) => {
    const err = refusal({ [key]: value });
    expect(err?.exitCode).toBe(2);
    expect(err?.code).toBe('invalid_config');
    expect(err?.message).toBe(`tenantctl.config.json: "${key}" must be ${want}, got ${JSON.stringify(value)}`);
  });

  it('names every problem at once, unknown keys first, in one error', () => {
    const err = refusal({ conccurency: 3, extra: true, roles: 'yes', concurrency: 0 });
    expect(err?.details.problems).toEqual([
      'unknown key "conccurency"',
      'unknown key "extra"',
      '"roles" must be true or false, got "yes"',
      '"concurrency" must be an integer from 1 to 256, got 0',
    ]);
    expect(err?.message).toBe(`tenantctl.config.json: ${(err?.details.problems as string[]).join('; ')}`);
  });

  it('refuses anything but a JSON object', () => {
    for (const raw of [null, [], 'text', 3]) expect(refusal(raw)?.message).toBe('tenantctl.config.json: must be a JSON object');
  });

  it('refuses a control schema equal to the shared schema, defaults included', () => {
    expect(refusal({ controlSchema: 'public' })?.message).toBe('tenantctl.config.json: "controlSchema" and "sharedSchema" must differ');
    expect(refusal({ sharedSchema: 'tenantctl' })?.message).toMatch(/must differ/);
  });

  it('names the source it was given, "config" by default', () => {
    expect(() => resolveConfig({ roles: 1 } as RawConfig, '/')).toThrow(/^config: "roles" must be true or false, got 1$/);
  });
});
