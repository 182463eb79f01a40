import { randomBytes } from 'node:crypto';
import type { Context } from '../../context.js';
import { readTemplate, saveTemplate, type Template } from '../../control/templates.js';
import { describeError } from '../../errors.js';
import { runTransaction, withSession } from '../../db/session.js';
import type { LoadedMigration } from '../../migrations/types.js';
import { dropTenantRole } from '../../roles/grants.js';
import { databaseOid, sharedRoleName } from '../../roles/names.js';
import { ident } from '../../util/quote.js';
import { buildTenant, type TenantSpec } from '../provision.js';
import { dumpSchema, dumpUnavailable } from './dump.js';
import { headOf } from './head.js';
import { rowsHold, templateHoldsNames } from './safety.js';
import { citusOf } from '../../citus/detect.js';

/**
 * The template at the head, captured once: a schema (and role) built by
 * replaying every tenant migration, under names no tenant can have (they hold
 * a "$"), dumped, checked for names held as text, then dropped. Racing first
 * runs each build their own; the first to save wins. Any failure is a reason,
 * not an error: creation then replays, as `--replay` does.
 */
export type Capture = { template: Template; reason?: undefined } | { template?: undefined; reason: string };

export async function ensureTemplate(ctx: Context, files: readonly LoadedMigration[]): Promise<Capture> {
  const head = headOf(files);
  // A captured script would make a plain schema; a distributed one is made by its migrations in the creating transaction.
  if (await citusOf(ctx)) return { reason: 'on a Citus coordinator each tenant is built by its migrations, as a distributed schema' };
  const known = captured.get(ctx);
  if (known?.head === head) return { template: known };
  const saved = await readTemplate(ctx.pool, ctx, head);
  if (saved) return remember(ctx, saved);
  const unavailable = await dumpUnavailable(ctx);
  if (unavailable) return { reason: unavailable };
  const rand = randomBytes(5).toString('hex');
  const oid = ctx.config.roles ? await databaseOid(ctx.pool, ctx) : 0;
  const spec: TenantSpec = {
    id: `tc$id$${rand}`,
    key: `tc$key$${rand}`,
    schema: `${ctx.config.controlSchema}$${rand}`,
    role: ctx.config.roles ? `tc${oid}_$${rand}` : null,
    sharedRole: ctx.config.roles ? sharedRoleName(oid) : null,
    name: null,
    config: {},
    migrations: files,
  };
  try {
    await withSession(ctx.pool, (client) =>
      runTransaction(client, ctx.config, {}, () => buildTenant(client, ctx, spec, { defer: false, journal: false })),
    );
  } catch (err) {
    await dropTemplate(ctx, spec).catch(() => undefined);
    return { reason: `the template could not be built: ${describeError(err)}` };
  }
  try {
    const script = await dumpSchema(ctx, spec.schema);
    const holds = await templateHoldsNames(ctx.pool, spec.schema, spec.role);
    const perTenant = script.includes(spec.id) || script.includes(spec.key);
    const template: Omit<Template, 'capturedBy'> = {
      head,
      schema: spec.schema,
      role: spec.role,
      tenantId: spec.id,
      tenantKey: spec.key,
      script,
      perTenant,
      renameSafe: !perTenant && !holds && !rowsHold(script, [spec.schema, ...(spec.role ? [spec.role] : [])]),
    };
    await saveTemplate(ctx.pool, ctx, template);
  } catch (err) {
    return { reason: describeError(err) };
  } finally {
    await dropTemplate(ctx, spec).catch(() => undefined);
  }
  const winner = await readTemplate(ctx.pool, ctx, head);
  return winner ? remember(ctx, winner) : { reason: 'the captured template was replaced by a newer head meanwhile' };
}

/** A template is used only by the user that captured it: another would own its objects itself after a replay. */
async function remember(ctx: Context, template: Template): Promise<Capture> {
  const r = await ctx.pool.query<{ me: string }>('SELECT current_user::text AS me');
  if (r.rows[0]!.me !== template.capturedBy)
    return {
      reason: `the head's structure was captured by database user "${template.capturedBy}", whose objects a tenant made from it would hold; this run connects as "${r.rows[0]!.me}"`,
    };
  captured.set(ctx, template);
  return { template };
}

/** A context's capture, read once per process: a library creating one tenant at a time reads the script once. */
const captured = new WeakMap<Context, Template>();

async function dropTemplate(ctx: Context, spec: TenantSpec): Promise<void> {
  await withSession(ctx.pool, (client) =>
    runTransaction(client, ctx.config, {}, async () => {
      await client.query(`DROP SCHEMA IF EXISTS ${ident(spec.schema)} CASCADE`);
      if (spec.role) await dropTenantRole(client, spec.role);
    }),
  );
}
