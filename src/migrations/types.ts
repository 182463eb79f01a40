import type { MigrationAction } from 'node-pg-migrate/migration';
import type { ColumnDefinitions } from 'node-pg-migrate/operations/tables/shared';

/** One migration file (or up/down pair), loaded once per process. */
export interface LoadedMigration {
  /** The file name without its extension: what the journal records. */
  name: string;
  path: string;
  /** sha256 of the file's bytes, to tell when a file changed after it ran. */
  checksum: string;
  up?: MigrationAction | false;
  down?: MigrationAction | false;
  shorthands?: ColumnDefinitions;
}

export interface LoadedMigrations {
  dir: string;
  list: LoadedMigration[];
  byName: Map<string, LoadedMigration>;
}
