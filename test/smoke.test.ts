import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenants, listTenants } from '../src/index.js';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { openOn } from './support/lib.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe('smoke', () => {
  it('creates and lists through the library and the CLI', async () => {
    const tc = await openOn(db.url);
    try {
      const r = await createTenants(tc, { ids: ['acme'] });
      expect(r.summary.migrated).toBe(1);
    } finally {
      await tc.close();
    }
    const cli = cliOn(db.url);
    const list = await cli(['tenant', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(list.json<{ tenants: { id: string; pending: number }[] }>().tenants).toEqual([expect.objectContaining({ id: 'acme', pending: 0, applied: 9 })]);
    const tc2 = await openOn(db.url);
    expect((await listTenants(tc2)).tenants).toHaveLength(1);
    await tc2.close();
  });
});
