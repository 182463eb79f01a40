// Citus's rules for tenant migrations (on only when the config says Citus or init recorded a coordinator):
// what Citus refuses in a distributed schema, warned before the migration runs.
import type { Constraint, CreateSchemaStmt, CreateTrigStmt, VariableSetStmt } from 'libpg-query';
import type { Check, CheckContext } from './context.js';

export const citusVariableSet: Check<VariableSetStmt> = (s, ctx) => {
  if (!ctx.citus || s.name !== 'citus.enable_unsafe_triggers') return;
  const value = JSON.stringify(s.args ?? []).toLowerCase();
  ctx.citus.unsafeTriggers = s.kind === 'VAR_SET_VALUE' && /"(on|true|1)"|"ival":1|"boolval":true/.test(value);
};

export const citusTrigger: Check<CreateTrigStmt> = (s, ctx) => {
  if (!ctx.citus || ctx.citus.unsafeTriggers) return;
  ctx.report(
    'citus-trigger',
    `CREATE TRIGGER ${s.trigname ?? ''}: Citus refuses it on a distributed table while citus.enable_unsafe_triggers is off`,
  );
};

export const citusCreateSchema: Check<CreateSchemaStmt> = (s, ctx) => {
  if (!ctx.citus || !(s.schemaElts ?? []).some((e) => 'CreateStmt' in e)) return;
  ctx.report('citus-create-schema-with-table', `CREATE SCHEMA ${s.schemaname ?? ''} ... CREATE TABLE: Citus refuses it in one statement`);
};

/** Every foreign key a CREATE TABLE or ALTER TABLE adds, wherever it sits in the statement. */
export function citusForeignKeys(node: unknown, ctx: CheckContext): void {
  if (!ctx.citus) return;
  for (const c of constraints(node)) {
    if (c.contype !== 'CONSTR_FOREIGN' || !c.pktable?.relname) continue;
    const target = c.pktable.relname;
    const schema = c.pktable.schemaname;
    // Unqualified: the tenant schema comes first on the search_path, so a table made in the run is the tenant's own.
    if (!schema && ctx.state.isNew(target)) continue;
    if (schema && schema !== ctx.citus.sharedSchema) continue; // another schema of the application's: not for tenantctl to judge
    const wanted = ctx.citus.referenceTables;
    if (wanted === 'all' || (Array.isArray(wanted) && wanted.includes(target))) continue;
    ctx.report(
      'citus-foreign-key-to-plain-table',
      `foreign key to ${schema ? `${schema}.` : ''}${target}: the config's "citus.referenceTables" does not make it a reference table, and Citus refuses a foreign key from a distributed schema to a plain table`,
      { at: c.location },
    );
  }
}

function constraints(node: unknown, out: Constraint[] = []): Constraint[] {
  if (Array.isArray(node)) for (const n of node) constraints(n, out);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'Constraint') out.push(value as Constraint);
      constraints(value, out);
    }
  }
  return out;
}
