import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { REPO } from './cli.js';

const made: string[] = [];
// Registered in every test file that imports this module: its scratch projects go when the file ends.
afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A scratch project folder: the example app's migrations, plus extra tenant migrations as SQL files. */
export function scratchProject(extraTenant: Record<string, string> = {}): {
  dir: string;
  tenant: string;
  shared: string;
  add(name: string, sql: string): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'tenantctl-proj-'));
  made.push(dir);
  cpSync(join(REPO, 'migrations'), join(dir, 'migrations'), { recursive: true });
  const tenant = join(dir, 'migrations', 'tenant');
  const add = (name: string, sql: string) =>
    writeFileSync(join(tenant, `${name}.sql`), sql.includes('-- Up Migration') ? sql : `-- Up Migration\n${sql}\n`);
  for (const [name, sql] of Object.entries(extraTenant)) add(name, sql);
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  return { dir, tenant, shared: join(dir, 'migrations', 'shared'), add };
}
