import { describe, expect, it } from 'vitest';
import { findings } from './lint-support.js';

describe('lint: deliberate exceptions', () => {
  it('a tenantctl-lint: ignore comment before a statement silences the named rules for that statement only', async () => {
    const sql = [
      '-- the check was validated by the previous release',
      '-- tenantctl-lint: ignore setting-not-null',
      'ALTER TABLE t ALTER COLUMN a SET NOT NULL;',
      'ALTER TABLE t ALTER COLUMN b SET NOT NULL; -- tenantctl-lint: ignore setting-not-null',
      'ALTER TABLE t ALTER COLUMN c SET NOT NULL;',
      '-- tenantctl-lint: ignore ban-drop-column, renaming-column',
      'ALTER TABLE t DROP COLUMN old, ALTER COLUMN d SET NOT NULL;',
    ].join('\n');
    // b's comment is on b's own line, so it silences b and not c; d is not named.
    expect(await findings(sql)).toEqual([
      ['setting-not-null', 'error', 6],
      ['setting-not-null', 'error', 8],
    ]);
  });

  it('in a JS migration the comment covers the whole file', async () => {
    const js =
      "// tenantctl-lint: ignore require-concurrent-index-creation\n  pgm.createIndex('t', 'a');\n  pgm.renameColumn('t', 'a', 'b');";
    expect(await findings({ js })).toEqual([['renaming-column', 'error', null]]);
  });
});
