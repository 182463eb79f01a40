import { InputError, toTenantctlError } from '../errors.js';
import { runTransaction, withSession } from '../db/session.js';
import { SQLSTATE, sqlstateOf } from '../sqlstate.js';
import type { Context } from '../context.js';
import type { Queryable } from '../db/types.js';
import { CONTROL_SCHEMA_VERSION, controlSchemaVersions } from './ddl.js';
import { controlTable } from './table.js';

/** The control schema's version, 0 when it does not exist yet. One round trip. */
export async function controlVersion(ctx: Context): Promise<number> {
  try {
    const r = await ctx.pool.query<{ value: string }>(`SELECT value FROM ${controlTable(ctx.config, 'meta')} WHERE key = 'schema_version'`);
    return Number(r.rows[0]?.value ?? 0);
  } catch (err) {
    const code = sqlstateOf(err);
    if (code === SQLSTATE.UNDEFINED_TABLE || code === SQLSTATE.UNDEFINED_SCHEMA) return 0;
    throw toTenantctlError(err);
  }
}

function assertKnown(ctx: Context, version: number): void {
  if (version > CONTROL_SCHEMA_VERSION) {
    throw new InputError(
      'control_schema_newer',
      `control schema "${ctx.config.controlSchema}" is at version ${version}, newer than this tenantctl knows (${CONTROL_SCHEMA_VERSION}); upgrade tenantctl`,
    );
  }
}

/** For read-only commands: true when the control schema exists and is current. */
export async function controlReady(ctx: Context): Promise<boolean> {
  return (await readyVersion(ctx)) > 0;
}

/** For read-only commands: the control schema's version (0: none), refused when newer than this tenantctl knows. */
export async function readyVersion(ctx: Context): Promise<number> {
  const version = await controlVersion(ctx);
  assertKnown(ctx, version);
  return version;
}

/**
 * A control schema that exists without tenantctl's tables is someone else's
 * (public, an application schema): tenantctl neither puts its tables there nor
 * changes its privileges. Exit 2, before any change.
 */
async function assertSchemaFree(client: Queryable, controlSchema: string): Promise<void> {
  const r = await client.query('SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1', [controlSchema]);
  if (r.rowCount === 0) return;
  throw new InputError(
    'control_schema_taken',
    `schema "${controlSchema}" already exists and is not tenantctl's control schema; set "controlSchema" to a schema tenantctl may create, or drop that schema`,
    { schema: controlSchema },
  );
}

/**
 * Creates or upgrades the control schema. Idempotent; the fast path (already
 * current) costs one round trip. Upgrades run under an advisory lock inside one
 * transaction, re-reading the version after the lock, so racing first runs are safe.
 */
export async function ensureControlSchema(ctx: Context): Promise<{ from: number; to: number }> {
  const seen = await controlVersion(ctx);
  assertKnown(ctx, seen);
  if (seen === CONTROL_SCHEMA_VERSION) return { from: seen, to: seen };
  return withSession(ctx.pool, async (client) => {
    return runTransaction(client, ctx.config, { controlLock: true }, async () => {
      const meta = controlTable(ctx.config, 'meta');
      const present = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [meta]);
      const from = present.rows[0]?.t
        ? Number((await client.query<{ value: string }>(`SELECT value FROM ${meta} WHERE key = 'schema_version'`)).rows[0]?.value ?? 0)
        : 0;
      assertKnown(ctx, from);
      if (from === 0) await assertSchemaFree(client, ctx.config.controlSchema);
      const versions = controlSchemaVersions(ctx.config.controlSchema);
      for (let v = from; v < versions.length; v++) {
        for (const statement of versions[v]!) await client.query(statement);
      }
      if (from < versions.length) {
        await client.query(
          `INSERT INTO ${meta} (key, value) VALUES ('schema_version', $1)
           ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
          [String(versions.length)],
        );
      }
      return { from, to: versions.length };
    });
  });
}
