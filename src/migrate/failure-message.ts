import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describeError } from '../errors.js';
import { citusRefusal } from '../citus/refusals.js';
import type { MigrationFailure } from '../migrations/builder.js';
import type { LoadedMigration } from '../migrations/types.js';

/**
 * One line for a failed migration run: the file, the place in it when the
 * server said where (for SQL files the line of the file itself), and the
 * server's message (with the rule and the fix when Citus refused it).
 */
export function describeMigrationFailure(failure: MigrationFailure, migrations: readonly LoadedMigration[]): string {
  const refusal = citusRefusal(failure.cause);
  const message = refusal ? `${describeError(failure.cause)}; ${refusal}` : describeError(failure.cause);
  const file = migrations.find((m) => m.name === failure.migration);
  if (!file) return failure.migration ? `${failure.migration}: ${message}` : message;
  const where = failure.position ? ` (${place(file, failure.position)})` : '';
  return `${basename(file.path)}${where}: ${message}`;
}

function place(file: LoadedMigration, position: { line: number; column: number }): string {
  if (file.path.endsWith('.sql')) {
    const line = sqlFileLine(file.path, position.line);
    if (line !== undefined) return `line ${line}`;
  }
  return `line ${position.line} of its SQL`;
}

/** An SQL file's Up part starts after its `-- Up Migration` marker: the file line of the Up text's line n. */
function sqlFileLine(path: string, n: number): number | undefined {
  try {
    const lines = readFileSync(path, 'utf8').split('\n');
    const marker = lines.findIndex((l) => /^\s*--\s*Up Migration/i.test(l));
    return marker < 0 ? n : marker + n;
  } catch {
    return undefined;
  }
}
