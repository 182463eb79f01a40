import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, resolveConfig } from '../src/index.js';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function dirWith(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'tenantctl-config-'));
  made.push(dir);
  writeFileSync(join(dir, 'tenantctl.config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

describe('config', () => {
  it('defaults every key', () => {
    const c = resolveConfig({}, '/proj');
    expect(c).toEqual({
      controlSchema: 'tenantctl',
      schemaPrefix: 'tenant_',
      sharedSchema: 'public',
      tenantMigrations: '/proj/migrations/tenant',
      sharedMigrations: '/proj/migrations/shared',
      ownershipColumn: 'tenant_id',
      roles: true,
      concurrency: 4,
      lockTimeout: '5s',
      statementTimeout: '0',
      lockRetries: 3,
      servers: {},
      placement: 'home',
      citus: null,
    });
  });

  it('flags beat the file, the file beats defaults; folders resolve against the file', () => {
    const dir = dirWith({ concurrency: 8, schemaPrefix: 'org_', tenantMigrations: 'db/tenant', lockTimeout: 250 });
    const c = loadConfig({ cwd: '/elsewhere', file: join(dir, 'tenantctl.config.json'), overrides: { concurrency: 2 } });
    expect(c.concurrency).toBe(2);
    expect(c.schemaPrefix).toBe('org_');
    expect(c.tenantMigrations).toBe(join(dir, 'db/tenant'));
    expect(c.lockTimeout).toBe('250ms');
    expect(loadConfig({ cwd: dir }).concurrency).toBe(8);
  });

  it('names every unknown key and wrong type at once', () => {
    const dir = dirWith({ conccurency: 3, roles: 'yes', controlSchema: 'Bad-Name', lockTimeout: 'soon' });
    expect(() => loadConfig({ cwd: dir })).toThrow(
      /unknown key "conccurency".*"controlSchema" must be a lowercase SQL name.*"roles" must be true or false.*"lockTimeout" must be a duration/,
    );
  });

  it('refuses JSON that does not parse, and a named file that is missing', () => {
    expect(() => loadConfig({ cwd: dirWith('{ nope') })).toThrow(/not valid JSON/);
    expect(() => loadConfig({ cwd: '/', file: '/missing.json' })).toThrow(/does not exist/);
    expect(() => loadConfig({ cwd: dirWith([1, 2]) })).toThrow(/must be a JSON object/);
  });

  it('refuses a control schema that is also the shared schema', () => {
    expect(() => resolveConfig({ controlSchema: 'public' }, '/')).toThrow(/must differ/);
  });
});
