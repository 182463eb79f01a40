import { InputError } from '../errors.js';
import type { SchemaCatalog } from './catalog.js';

/**
 * The target must hold every table the copy writes, with the same columns of
 * the same types (generated or not). Tenants at different migration versions
 * usually differ here: the copy is refused, naming the first differences.
 */
export function assertSameStructure(
  source: SchemaCatalog,
  target: SchemaCatalog,
  tables: Iterable<string>,
  names: { from: string; to: string },
): void {
  const problems: string[] = [];
  for (const name of tables) {
    const s = source.tables.get(name)!;
    const t = target.tables.get(name);
    if (!t) {
      problems.push(`table ${name} is missing in "${names.to}"`);
      continue;
    }
    const targetCols = new Map(t.columns.map((c) => [c.name, c]));
    const sourceCols = new Set(s.columns.map((c) => c.name));
    for (const c of s.columns) {
      const tc = targetCols.get(c.name);
      if (!tc) problems.push(`${name}.${c.name} is missing in "${names.to}"`);
      else if (localType(tc.type, target.schema) !== localType(c.type, source.schema))
        problems.push(`${name}.${c.name} is ${c.type} in "${names.from}" but ${tc.type} in "${names.to}"`);
      else if (tc.generated !== c.generated) problems.push(`${name}.${c.name} is generated in only one of the two`);
    }
    for (const c of t.columns) if (!sourceCols.has(c.name)) problems.push(`${name}.${c.name} is missing in "${names.from}"`);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '');
    throw new InputError(
      'schema_mismatch',
      `tenants "${names.from}" and "${names.to}" have different tables: ${shown}; bring both to the same migration (tenantctl migrate) and retry`,
      { problems },
    );
  }
}

/** A type name as format_type gives it, without the tenant's own schema (its enums and domains). */
function localType(type: string, schema: string): string {
  for (const prefix of [`${schema}.`, `"${schema.replace(/"/g, '""')}".`]) if (type.startsWith(prefix)) return type.slice(prefix.length);
  return type;
}
