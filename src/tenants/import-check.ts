import { statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, RunFailure } from '../errors.js';
import type { SchemaCatalog } from '../copy/catalog.js';
import { planUp } from '../migrations/plan.js';
import type { LoadedMigration, LoadedMigrations } from '../migrations/types.js';
import type { Manifest } from './archive-format.js';

/**
 * What import checks before and while it rebuilds a tenant: that the export's
 * migrations are on disk unchanged (the structure is rebuilt from them), that
 * its data files are all there, and that the rebuilt tables have the columns
 * the export has.
 */

/** The export's migrations as files (in file order), and the files after them: exit 2 when one is missing or changed. */
export function exportMigrations(manifest: Manifest, files: LoadedMigrations): { restore: LoadedMigration[]; pending: LoadedMigration[] } {
  const missing = manifest.migrations.filter((m) => !files.byName.has(m.name)).map((m) => m.name);
  if (missing.length > 0) {
    throw new InputError(
      'migration_missing',
      `the export is at a version made by ${missing.join(', ')}, missing from ${files.dir}; import needs every migration the tenant had, to rebuild its structure`,
      { migrations: missing },
    );
  }
  const changed = manifest.migrations.filter((m) => files.byName.get(m.name)!.checksum !== m.checksum).map((m) => m.name);
  if (changed.length > 0) {
    throw new InputError(
      'migration_changed',
      `${changed.join(', ')} in ${files.dir} differ${changed.length === 1 ? 's' : ''} from the file${changed.length === 1 ? '' : 's'} the exported tenant applied (checksum); the rebuilt structure would not match its rows`,
      { migrations: changed },
    );
  }
  const plan = planUp(files.list, manifest.migrations);
  if (plan.outOfOrder) {
    throw new InputError(
      'migration_out_of_order',
      `the export lacks ${plan.outOfOrder.pending}, which sorts before ${plan.outOfOrder.applied} that it has; import cannot place the tenant at one version`,
    );
  }
  const applied = new Set(manifest.migrations.map((m) => m.name));
  return { restore: files.list.filter((f) => applied.has(f.name)), pending: plan.pending };
}

/** Every data file present with the size the manifest gives: exit 2 otherwise (a copy cut short). */
export function assertDataFiles(path: string, manifest: Manifest): void {
  for (const t of manifest.tables) {
    let size = -1;
    try {
      size = statSync(join(path, t.file)).size;
    } catch {
      // missing
    }
    if (size !== t.bytes) {
      throw new InputError(
        'export_incomplete',
        `${join(path, t.file)} (table ${t.name}) ${size < 0 ? 'is missing' : `holds ${size} bytes, the manifest says ${t.bytes}`}; copy the export again`,
        { table: t.name },
      );
    }
  }
}

/** The rebuilt schema must have every exported table with the exported columns and types (and no more tables). */
export function assertSameStructure(manifest: Manifest, catalog: SchemaCatalog): void {
  const problems: string[] = [];
  const exported = new Set(manifest.tables.map((t) => t.name));
  for (const t of manifest.tables) {
    const mine = catalog.tables.get(t.name);
    if (!mine) {
      problems.push(`table ${t.name} is not made by the migrations`);
      continue;
    }
    const cols = new Map(mine.columns.map((c) => [c.name, c]));
    for (const c of t.columns) {
      const m = cols.get(c.name);
      if (!m) problems.push(`${t.name}.${c.name} is missing`);
      else if (sameSchema(m.type, catalog.schema) !== sameSchema(c.type, manifest.tenant.schema))
        problems.push(`${t.name}.${c.name} is ${m.type}, the export has ${c.type}`);
    }
    for (const c of mine.columns) if (!t.columns.some((x) => x.name === c.name)) problems.push(`${t.name}.${c.name} is not in the export`);
  }
  for (const name of catalog.tables.keys()) if (!exported.has(name)) problems.push(`table ${name} is not in the export`);
  if (problems.length > 0) {
    throw new RunFailure(
      'structure_differs',
      `the migrations rebuild a structure that differs from the export's: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}; nothing was changed`,
    );
  }
}

/** A type of the tenant's own schema (an enum, a domain) names that schema: compare it without the name. */
function sameSchema(type: string, schema: string): string {
  return type
    .split(`"${schema.replace(/"/g, '""')}".`)
    .join('@.')
    .split(`${schema}.`)
    .join('@.');
}
