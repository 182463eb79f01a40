import { createHash } from 'node:crypto';
import type { LoadedMigration } from '../../migrations/types.js';

/**
 * The head: a digest of the tenant migration files' names and checksums. A
 * capture is valid for one head only, and a spare tenant is at the head when
 * its journal gives the same digest (src/control/pool.ts computes it in SQL).
 */
export function headOf(files: readonly LoadedMigration[]): string {
  const lines = files.map((f) => `${f.name} ${f.checksum}`).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return createHash('md5').update(lines.join('\n')).digest('hex');
}
