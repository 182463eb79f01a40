import type { Context } from '../context.js';
import { roleExists, schemaExists, tenantExists, keyTaken } from '../errors.js';
import { findClashes, insertTenantSql, type Clash, type NewTenant } from '../control/tenants.js';
import { recordAppliedSql } from '../control/journal.js';
import { asTenantSql } from '../db/session.js';
import { SQLSTATE, sqlstateOf } from '../sqlstate.js';
import type { Queryable } from '../db/types.js';
import { runMigrationActions, type Batch } from '../migrations/builder.js';
import type { LoadedMigration } from '../migrations/types.js';
import { createTenantRoleSql, ensureSharedRole, revokePublicSql } from '../roles/grants.js';
import { databaseOid, sharedRoleName, tenantRoleName } from '../roles/names.js';
import { ident } from '../util/quote.js';
import { assertSchemaNameAllowed } from '../runtime/ids.js';
import type { Template } from '../control/templates.js';
import { scriptFor } from './instant/rewrite.js';
import { citusOf } from '../citus/detect.js';
import { distributedSchemaSettingSql } from '../citus/schemas.js';

/**
 * The one way a tenant comes into being (create, clone, the pool; later
 * import): registry row, schema, role and grants, the migrations with PUBLIC's
 * access revoked after them (or the captured structure of a template built that
 * way, see instantBuildSql), and the journal, all in the caller's transaction.
 */

export interface TenantSpec extends NewTenant {
  migrations: readonly LoadedMigration[];
  sharedRole: string | null;
  /** On a Citus coordinator: the schema is made a distributed schema (its tables live together on one worker). */
  distributed?: boolean;
}

export function schemaNameFor(config: { schemaPrefix: string }, id: string): string {
  return `${config.schemaPrefix}${id}`;
}

/** The registry row, schema, role names for new tenants; ids and schemas checked against the reserved names. */
export async function tenantSpecs(
  ctx: Context,
  wanted: readonly { id: string; key?: string; name?: string | null; config: NewTenant['config'] }[],
  migrations: readonly LoadedMigration[],
): Promise<TenantSpec[]> {
  const oid = ctx.config.roles ? await databaseOid(ctx.pool, ctx) : 0;
  const distributed = (await citusOf(ctx)) !== null;
  return wanted.map((w) => {
    const schema = schemaNameFor(ctx.config, w.id);
    assertSchemaNameAllowed(w.id, schema, ctx.config);
    return {
      id: w.id,
      schema,
      role: ctx.config.roles ? tenantRoleName(oid, w.id) : null,
      sharedRole: ctx.config.roles ? sharedRoleName(oid) : null,
      key: w.key ?? w.id,
      name: w.name ?? null,
      config: w.config,
      migrations,
      ...(distributed ? { distributed } : {}),
    };
  });
}

/**
 * Refuses, before anything is made, ids whose schema exists without a tenant
 * and keys another tenant holds. Registered ids come back for the caller to
 * decide (create converges on a tenant that is already what was asked).
 */
export async function checkAbsent(db: Queryable, ctx: Context, specs: readonly TenantSpec[]): Promise<Set<string>> {
  return refuseClashes(specs, await findClashes(db, ctx, specs));
}

/** checkAbsent's refusals, on clash rows already read (create reads them with its other checks). */
export function refuseClashes(specs: readonly TenantSpec[], clashes: readonly Clash[]): Set<string> {
  const registered = new Set<string>();
  for (const clash of clashes) {
    if (clash.registered) registered.add(clash.id);
    else if (clash.schemaTaken) throw schemaExists(specs.find((s) => s.id === clash.id)!.schema);
    if (clash.keyOwner !== null) throw keyTaken(specs.find((s) => s.id === clash.id)!.key, clash.keyOwner);
  }
  return registered;
}

/** The shared role tenant roles belong to, made when missing (once per run, not per tenant: its GRANTs touch shared catalog rows). */
export async function ensureSharedRoleOnce(db: Queryable, ctx: Context): Promise<void> {
  if (!ctx.config.roles) return;
  const role = sharedRoleName(await databaseOid(db, ctx));
  const exists = (await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 1;
  if (!exists) await ensureSharedRole(db, ctx.config, role);
}

/** The registry insert, for the caller's transaction (prelude or a statement of its own): a row tc_inserted when it took the id. */
export function registerSql(ctx: Context, spec: TenantSpec): string {
  return insertTenantSql(ctx, spec);
}

/**
 * After the registry row: schema, role, migrations, journal. With `defer`, the
 * last batch is not sent but returned (with the journal write), for the
 * caller's COMMIT message; otherwise everything has run when it returns.
 */
export async function buildTenant(
  db: Queryable,
  ctx: Context,
  spec: TenantSpec,
  options: { defer: boolean; journal?: boolean },
): Promise<{ last: string[]; batch: Batch }> {
  const batch = await runMigrationActions(db, spec.migrations, 'up', ctx.log, {
    prologue: provisionPrologue(ctx, spec),
    epilogue: spec.role ? revokePublicSql(spec.schema) : '',
    deferLast: options.defer,
    inlineNonTransactional: true,
  });
  // A template has no registry row: no journal (options.journal false).
  const journal = options.journal === false ? '' : recordAppliedSql(ctx, spec.id, spec.migrations);
  if (options.defer) return { last: [batch.text, journal].filter(Boolean), batch };
  if (journal) await db.query(journal);
  return { last: [], batch };
}

/** The schema, the role and its grants, the tenant's search_path and settings: what runs before its migrations. */
export function provisionPrologue(ctx: Context, spec: TenantSpec): string {
  // On Citus the creating transaction turns schema-based sharding on: the schema becomes a distributed schema
  // and every table its migrations make a single-shard table of the schema's colocation group.
  const prologue = spec.distributed
    ? [distributedSchemaSettingSql(), `CREATE SCHEMA ${ident(spec.schema)}`]
    : [`CREATE SCHEMA ${ident(spec.schema)}`];
  if (spec.role && spec.sharedRole)
    prologue.push(createTenantRoleSql(spec.schema, spec.role, spec.sharedRole, { login: spec.distributed === true }));
  prologue.push(asTenantSql(ctx.config, { schema: spec.schema, id: spec.id, key: spec.key }));
  return prologue.join(';\n');
}

/** What a failure during provisioning means to a user: a role left behind by a dropped database gets its own message. */
export function provisioningMessage(err: unknown, spec: TenantSpec): string | undefined {
  const cause = (err as { cause?: unknown }).cause ?? err;
  if (sqlstateOf(cause) === SQLSTATE.DUPLICATE_OBJECT && spec.role && String((cause as Error).message).includes(spec.role))
    return roleExists(spec.role);
  return undefined;
}

export { tenantExists };

/**
 * The instant way, for the caller's COMMIT message: the role, then the
 * template's captured script with the tenant's names, then the journal as if
 * every migration ran. Undefined when this tenant must be built by replay.
 */
export function instantBuildSql(ctx: Context, spec: TenantSpec, template: Template): string[] | undefined {
  const script = scriptFor(template, { schema: spec.schema, role: spec.role, id: spec.id, key: spec.key });
  if (script === undefined) return undefined;
  const parts: string[] = [];
  if (spec.role && spec.sharedRole)
    parts.push(`CREATE ROLE ${ident(spec.role)} NOLOGIN; GRANT ${ident(spec.sharedRole)} TO ${ident(spec.role)}`);
  // A line comment at its end must not swallow what follows in the same message.
  parts.push(`${script.trim()}\n`);
  const journal = recordAppliedSql(ctx, spec.id, spec.migrations);
  if (journal) parts.push(journal);
  return parts;
}
