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
import { catalogScript } from './catalog-script.js';
import { headOf } from './head.js';
import { rowsHold, templateHoldsNames } from './safety.js';
import { scriptFor } from './rewrite.js';
import { citusOf } from '../../citus/detect.js';

/**
 * The template at the head, captured once: a schema (and role) built by
 * replaying every tenant migration, under names no tenant can have (they hold
 * a "$"), read from the catalog as a script (catalog-script.ts), checked for
 * names held as text, run once under other names and rolled back, then dropped. Racing first
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
  const refusal = refused.get(ctx);
  if (refusal?.head === head) return { reason: refusal.reason };
  return captureAt(ctx, files, head);
}

async function captureAt(ctx: Context, files: readonly LoadedMigration[], head: string): Promise<Capture> {
  const saved = await readTemplate(ctx.pool, ctx, head);
  if (saved) return remember(ctx, saved);
  // The upper-case T makes the names need quotes wherever the server writes them, so rewrite.ts finds them quoted.
  const rand = `T${randomBytes(5).toString('hex')}`;
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
    const captured = await withSession(ctx.pool, (client) =>
      runTransaction(client, ctx.config, { readOnly: true }, () => catalogScript(client, spec.schema)),
    );
    if (captured.reasons) return refuse(ctx, head, `the head's structure cannot be captured: ${captured.reasons.join('; ')}`);
    const { script, rows } = captured;
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
      renameSafe: !perTenant && !holds && !rowsHold(rows, [spec.schema, ...(spec.role ? [spec.role] : [])]),
    };
    const failed = await trialRun(ctx, template, rand);
    if (failed) return refuse(ctx, head, `the captured structure does not run: ${failed}`);
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
/** Why a context's head could not be captured, found once per process: later creations replay without building a template again. */
const refused = new WeakMap<Context, { head: string; reason: string }>();

/** A reason that stays while the head does (the structure, not the moment): kept for the process. */
function refuse(ctx: Context, head: string, reason: string): Capture {
  refused.set(ctx, { head, reason });
  return { reason };
}

/**
 * Runs the captured script once under other names, in a transaction that is
 * rolled back: an order the capture got wrong is a reason, found once per head.
 */
async function trialRun(ctx: Context, template: Omit<Template, 'capturedBy'>, rand: string): Promise<string | undefined> {
  // Names that hold none of the template's (which every replacement would find again): its marker T becomes R.
  const other = (name: string) => name.replace(`$${rand}`, `$R${rand.slice(1)}`);
  const names = {
    schema: other(template.schema),
    role: template.role ? other(template.role) : null,
    id: other(template.tenantId),
    key: other(template.tenantKey),
  };
  const script = scriptFor({ ...template, capturedBy: '' }, names);
  if (script === undefined) return undefined;
  const role = names.role ? `CREATE ROLE ${ident(names.role)} NOLOGIN;\n` : '';
  try {
    await withSession(ctx.pool, (client) =>
      runTransaction(client, ctx.config, {}, async () => {
        await client.query(`${role}${script}`); // role: ident()-quoted; script: the captured one, its names quoted
        throw ROLLED_BACK;
      }),
    );
  } catch (err) {
    if (err !== ROLLED_BACK) return `${describeError(err)}${near(`${role}${script}`, err)}`;
  }
  return undefined;
}

/** Where in the script a failure is (the server's position), as the start of its line. */
function near(script: string, err: unknown): string {
  const position = Number((err as { position?: string }).position ?? 0);
  if (!position) return '';
  const start = script.lastIndexOf('\n', position - 1) + 1;
  return ` (at: ${script.slice(start, start + 100).split('\n')[0]})`;
}

/** Thrown to end the trial's transaction with a rollback. */
const ROLLED_BACK = new Error('trial run rolled back');

async function dropTemplate(ctx: Context, spec: TenantSpec): Promise<void> {
  await withSession(ctx.pool, (client) =>
    runTransaction(client, ctx.config, {}, async () => {
      await client.query(`DROP SCHEMA IF EXISTS ${ident(spec.schema)} CASCADE`);
      if (spec.role) await dropTenantRole(client, spec.role);
    }),
  );
}
