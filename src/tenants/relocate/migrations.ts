import { InputError } from '../../errors.js';
import type { LoadedMigration, LoadedMigrations } from '../../migrations/types.js';

/**
 * The structure a relocated tenant is rebuilt with on its new server: the
 * migrations its journal on the source names, as files on disk, in file order.
 * Every one must be there with the checksum the tenant applied (exit 2 naming
 * it otherwise): the rebuilt tables must be the ones the rows came from.
 */
export function appliedMigrations(
  id: string,
  journal: readonly { name: string; checksum: string }[],
  files: LoadedMigrations,
): LoadedMigration[] {
  const missing = journal.filter((m) => !files.byName.has(m.name)).map((m) => m.name);
  if (missing.length > 0)
    throw new InputError(
      'migration_missing',
      `tenant "${id}" has applied ${missing.join(', ')}, missing from ${files.dir}; relocate rebuilds its structure from the migrations it had`,
      { migrations: missing },
    );
  const changed = journal.filter((m) => files.byName.get(m.name)!.checksum !== m.checksum).map((m) => m.name);
  if (changed.length > 0)
    throw new InputError(
      'migration_changed',
      `${changed.join(', ')} in ${files.dir} differ${changed.length === 1 ? 's' : ''} from what tenant "${id}" applied (checksum); the rebuilt structure would not match its rows`,
      { migrations: changed },
    );
  const applied = new Set(journal.map((m) => m.name));
  return files.list.filter((f) => applied.has(f.name));
}
