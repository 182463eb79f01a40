import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

/** A new folder in the temp dir for the running test (`tenantctl-<prefix>-...`), removed when the test ends, passed or failed. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `tenantctl-${prefix}-`));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
