import { qualified } from '../util/quote.js';

/** The control schema's tables; only src/control/ names them. */
export type ControlTable = 'meta' | 'tenants' | 'tenant_migrations' | 'shared_migrations' | 'operations' | 'templates' | 'placements';

/** A control table's quoted, schema-qualified name. */
export function controlTable(config: { controlSchema: string }, name: ControlTable): string {
  return qualified(config.controlSchema, name);
}
