import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOn } from './support/cli.js';
import { createTestDatabase, type TestDatabase } from './support/db.js';
import { snapshot } from './support/snapshot.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

describe('tenant keys are one per tenant', () => {
  it('tenant create --key refuses a key another tenant has (exit 2, nothing made)', async () => {
    const cli = cliOn(db.url);
    const first = await cli(['tenant', 'create', 'keya', '--key', 'k-100']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const before = await snapshot(db.pool);
    const r = await cli(['tenant', 'create', 'keyb', '--key', 'k-100', '--json']);
    expect(r.code).toBe(2);
    expect(r.json<{ error: { code: string; message: string } }>().error).toMatchObject({ code: 'key_taken' });
    expect(r.stderr).toMatch(/key "k-100" already belongs to tenant "keya"/);
    expect(await snapshot(db.pool)).toBe(before);
    // A key equal to another tenant's id (its default key) is taken too.
    expect((await cli(['tenant', 'create', 'keyd'])).code).toBe(0);
    const byId = await cli(['tenant', 'create', 'keyc', '--key', 'keyd']);
    expect(byId.code).toBe(2);
  });
});
