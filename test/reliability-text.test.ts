import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneTenant, createTenants, execAsTenant, InputError, updateTenant, type Tenantctl } from '../src/index.js';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';
import { snapshot } from './support/snapshot.js';
import { scratchDir } from './support/scratch.js';

// Text PostgreSQL cannot store (a NUL byte, a lone UTF-16 surrogate) is bad input
// through the library as through the CLI: exit 2, before any change.

let db: TestDatabase;
let tc: Tenantctl;
beforeAll(async () => {
  db = await createTestDatabase();
  tc = await openOn(db.url);
  const r = await createTenants(tc, { ids: ['acme'] });
  expect(r.summary.failed).toBe(0);
});
afterAll(async () => {
  await tc?.close();
  await db?.drop();
});

const NUL = 'a\u0000b';
const LONE = 'a\ud800b';

describe('NUL and lone surrogates', () => {
  it('are input errors in --name, --key and --set of create, update and clone, and change nothing', async () => {
    const before = await snapshot(db.pool);
    const attempts: [string, () => Promise<unknown>][] = [];
    for (const bad of [NUL, LONE]) {
      attempts.push(
        ['create --name', () => createTenants(tc, { ids: ['fresh'], name: bad })],
        ['create --key', () => createTenants(tc, { ids: ['fresh'], key: bad })],
        ['create --set value', () => createTenants(tc, { ids: ['fresh'], set: { plan: bad } })],
        ['create --set key', () => createTenants(tc, { ids: ['fresh'], set: { [bad]: 'x' } })],
        ['update --name', () => updateTenant(tc, { id: 'acme', name: bad })],
        ['update --set', () => updateTenant(tc, { id: 'acme', set: { plan: bad } })],
        ['clone --name', () => cloneTenant(tc, { from: 'acme', to: 'copy1', name: bad })],
        ['clone --key', () => cloneTenant(tc, { from: 'acme', to: 'copy1', key: bad })],
      );
    }
    for (const [what, run] of attempts) {
      const err = await run().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, what).toBeInstanceOf(InputError);
      expect((err as InputError).exitCode, what).toBe(2);
      expect((err as InputError).code, what).toBe('invalid_text');
    }
    expect(await snapshot(db.pool)).toBe(before);
  });

  it('exec -f of a file with a NUL byte is exit 2 on the CLI, and an input error through the library', async () => {
    const before = await snapshot(db.pool);
    const file = join(scratchDir('nul'), 'bad.sql');
    writeFileSync(file, "INSERT INTO customers (name) VALUES ('x');\u0000\n");
    const r = await cliOn(db.url)(['exec', '--tenant', 'acme', '-f', file, '--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    await expect(execAsTenant(tc, { tenant: 'acme', sql: "SELECT 'a\u0000'" })).rejects.toMatchObject({ exitCode: 2 });
    expect(await snapshot(db.pool)).toBe(before);
  });
});
