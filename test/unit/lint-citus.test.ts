import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintFiles, type Config } from '../../src/index.js';

const CITUS = { citus: { referenceTables: ['plans'] }, sharedSchema: 'public', sharedMigrations: '/nowhere/shared' } as Pick<
  Config,
  'citus' | 'sharedSchema' | 'sharedMigrations'
>;

async function rules(sql: string[], config?: typeof CITUS): Promise<[string, number | null][]> {
  const dir = mkdtempSync(join(tmpdir(), 'tenantctl-lint-citus-'));
  const files = sql.map((text, i) => {
    const file = join(dir, `${1700000000000 + i}_m${i}.sql`);
    writeFileSync(file, `-- Up Migration\n${text}\n`);
    return file;
  });
  try {
    return (await lintFiles({ files, ...(config ? { config } : {}) })).findings.map((f) => [f.rule, f.line]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const TRIGGER = `CREATE TABLE t (id int PRIMARY KEY);
CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t_f BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f();`;

describe('lint: the Citus rules', () => {
  it('are off without a "citus" config', async () => {
    expect(
      await rules([TRIGGER, 'CREATE SCHEMA s CREATE TABLE x (id int);', 'CREATE TABLE c (r_id int REFERENCES regions (id));']),
    ).toEqual([]);
  });

  it('warn on a trigger unless SET LOCAL citus.enable_unsafe_triggers = on came first in the transaction', async () => {
    expect(await rules([TRIGGER], CITUS)).toEqual([['citus-trigger', 4]]);
    expect(await rules(['SET LOCAL citus.enable_unsafe_triggers = on;', TRIGGER], CITUS)).toEqual([]);
    expect(await rules([`SET LOCAL citus.enable_unsafe_triggers = off;\n${TRIGGER}`], CITUS)).toEqual([['citus-trigger', 5]]);
  });

  it('warn on CREATE SCHEMA ... CREATE TABLE, not on CREATE SCHEMA alone', async () => {
    expect(await rules(['CREATE SCHEMA s CREATE TABLE x (id int);', 'CREATE SCHEMA s2;'], CITUS)).toEqual([
      ['citus-create-schema-with-table', 2],
    ]);
  });

  it('warn on a foreign key to a shared table the config does not make a reference table', async () => {
    expect(
      await rules(
        [
          `CREATE TABLE own (id int PRIMARY KEY);
CREATE TABLE c (id int PRIMARY KEY, own_id int REFERENCES own (id), plan_id int REFERENCES plans (id), region_id int REFERENCES public.regions (id));
ALTER TABLE c ADD CONSTRAINT c_cur FOREIGN KEY (plan_id) REFERENCES currencies (id);`,
        ],
        CITUS,
      ),
    ).toEqual([
      ['citus-foreign-key-to-plain-table', 3],
      ['citus-foreign-key-to-plain-table', 4],
    ]);
    expect(
      await rules(['CREATE TABLE c (region_id int REFERENCES regions (id));'], { ...CITUS, citus: { referenceTables: 'all' } }),
    ).toEqual([]);
  });
});
