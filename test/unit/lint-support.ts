import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lintFiles, type LintResult } from '../../src/index.js';

/** A migration for a lint test: SQL (an .sql file, transactional) or a JS file's up body. */
export type Snippet = string | { js: string } | { sql: string; noTransaction: true };

/** Writes the snippets as migration files 1..n in a scratch folder, runs `fn` on them, and removes the folder. */
export async function withSnippets<T>(snippets: Snippet[], fn: (files: string[]) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'tenantctl-lint-'));
  try {
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    const files = snippets.map((s, i) => {
      const name = `${1700000000000 + i}_m${i}`;
      if (typeof s === 'string') {
        const file = join(dir, `${name}.sql`);
        writeFileSync(file, s.includes('-- Up Migration') ? s : `-- Up Migration\n${s}\n`);
        return file;
      }
      const body = 'js' in s ? s.js : `pgm.noTransaction();\n  pgm.sql(${JSON.stringify(s.sql)});`;
      const file = join(dir, `${name}.js`);
      writeFileSync(file, `export const up = async (pgm) => {\n  ${body}\n};\n`);
      return file;
    });
    return await fn(files);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes the snippets as migration files 1..n and lints them as one run, as `migrate lint FILE...` does. */
export function lint(...snippets: Snippet[]): Promise<LintResult> {
  return withSnippets(snippets, (files) => lintFiles({ files }));
}

/** Findings as [rule, level, line] in order: what a test compares exactly. */
export async function findings(...snippets: Snippet[]): Promise<[string, string, number | null][]> {
  return (await lint(...snippets)).findings.map((f) => [f.rule, f.level, f.line]);
}
