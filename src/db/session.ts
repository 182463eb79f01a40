import type pg from 'pg';
import { ident, literal } from '../util/quote.js';
import { isConnectionLoss } from '../sqlstate.js';
import { controlLockKeys, tenantLockKeys } from './locks.js';
import { messagesSent } from './messages.js';
import type { Pool, PoolClient, Queryable } from './types.js';

/**
 * The one tenant session: every transaction tenantctl opens goes through here.
 * It begins with the configured timeouts, takes tenants' advisory locks (try or
 * wait), lets the caller set the tenant's search_path, role and settings, commits
 * (a COMMIT the server turned into a ROLLBACK is an error) or rolls back, and
 * resets the session before the connection serves anyone else. Statements that
 * need no answer in between travel in one simple-protocol message: BEGIN with the
 * lock and the caller's first reads, and the caller's last writes with COMMIT and
 * the reset.
 */

/** What a session needs from the config. */
export interface SessionSettings {
  controlSchema: string;
  sharedSchema: string;
  lockTimeout: string;
  statementTimeout: string;
}

/**
 * Everything a session can hold, dropped (DISCARD ALL, spelled out so that it can
 * follow COMMIT in one message): cursors WITH HOLD, prepared statements, session
 * authorization and role, settings, LISTEN, session advisory locks, temporary
 * tables, sequence caches and cached plans.
 */
export const SESSION_RESET =
  'CLOSE ALL; DEALLOCATE ALL; RESET SESSION AUTHORIZATION; RESET ALL; UNLISTEN *; SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES; DISCARD PLANS';

/** After the reset: who the session is now, and what it still holds. A clean session holds nothing. */
const SESSION_CHECK = `SELECT session_user::text AS tc_session_user, current_user::text AS tc_current_user,
  (SELECT count(*) FROM pg_catalog.pg_cursors)::int + (SELECT count(*) FROM pg_catalog.pg_prepared_statements)::int
  + (SELECT count(*) FROM pg_catalog.pg_listening_channels())::int AS tc_held`;

/** A tenant's search_path: its schema, then the shared schema; pg_temp last, so a temporary table never shadows a tenant's table. */
export function tenantSearchPath(schema: string, sharedSchema: string): string {
  return `${ident(schema)}, ${ident(sharedSchema)}, pg_temp`;
}

/** SQL that points this transaction at a tenant (search_path, and the key settings when given). Values are inlined as literals. */
export function asTenantSql(settings: SessionSettings, tenant: { schema: string; id?: string; key?: string }): string {
  const parts = [`set_config('search_path', ${literal(tenantSearchPath(tenant.schema, settings.sharedSchema))}, true)`];
  if (tenant.id !== undefined) parts.push(`set_config('tenantctl.tenant_id', ${literal(tenant.id)}, true)`);
  if (tenant.key !== undefined) parts.push(`set_config('tenantctl.tenant_key', ${literal(tenant.key)}, true)`);
  return `SELECT ${parts.join(', ')}`;
}

/** Points this transaction at a tenant (its search_path, id and key settings). */
export async function asTenant(
  db: Queryable,
  settings: SessionSettings,
  tenant: { schema: string; id?: string; key?: string },
): Promise<void> {
  await db.query(asTenantSql(settings, tenant));
}

/** For catalog reads: search_path = pg_catalog, so type names come back qualified. */
export async function asCatalog(db: Queryable): Promise<void> {
  await db.query('SET LOCAL search_path = pg_catalog');
}

export type Isolation = 'read committed' | 'repeatable read' | 'serializable';

export interface BeginOptions {
  isolation?: Isolation;
  readOnly?: boolean;
  /**
   * Tenants whose advisory locks the transaction holds until it ends, taken in
   * sorted order: `try` gives up at once when another run holds one; `wait`
   * blocks for as long as it takes (no lock_timeout while it waits). With
   * `session`, they are session-level and taken before BEGIN, so that a
   * REPEATABLE READ snapshot is taken after they are held (a run that finished
   * with the tenant just before is seen in full); the reset releases them.
   */
  lock?: { ids: readonly string[]; wait?: boolean; session?: boolean };
  /** Take the control schema's lock (shared migrations, control upgrades), waiting for it. */
  controlLock?: boolean;
  /** Statements sent in the same message after BEGIN and the locks; their results come back in order. */
  prelude?: readonly string[];
  /** Timeouts: the configured ones unless overridden ('0' turns one off). */
  statementTimeout?: string;
  lockTimeout?: string;
  /**
   * End without the session reset: the session keeps what it holds (a tenant
   * lock held with holdTenantLock, across several transactions) until
   * releaseTenantLock. Settings made with SET LOCAL still end with the transaction.
   */
  keepSession?: boolean;
}

export type Begun = { locked: false; prelude: pg.QueryResult[] } | { locked: true; id: string };

/** The text of BEGIN with timeouts and locks, and how many results it yields before the prelude's. */
export function beginSql(
  settings: SessionSettings,
  options: BeginOptions = {},
): { sessionLocks: string; text: string; lockChecks: string[]; before: number } {
  const statementTimeout = options.statementTimeout ?? settings.statementTimeout;
  const lockTimeout = options.lockTimeout ?? settings.lockTimeout;
  const mode = modeSql(options);
  const ids = [...new Set(options.lock?.ids ?? [])].sort();
  const lockChecks: string[] = [];
  const locks: string[] = [];
  const fn = options.lock?.session ? 'pg_advisory_lock' : 'pg_advisory_xact_lock';
  const tryFn = options.lock?.session ? 'pg_try_advisory_lock' : 'pg_try_advisory_xact_lock';
  for (const id of ids) {
    if (options.lock?.wait) locks.push(`SELECT ${fn}(${tenantLockKeys(settings.controlSchema, id)})`);
    else {
      locks.push(`SELECT ${tryFn}(${tenantLockKeys(settings.controlSchema, id)}) AS tc_locked`);
      lockChecks.push(id);
    }
  }
  const waiting = options.controlLock || (options.lock?.wait && ids.length > 0);
  const parts: string[] = [];
  // Session locks go in a message of their own: statements before BEGIN in one message would join its transaction.
  const sessionLocks = options.lock?.session ? locks.join('; ') : '';
  parts.push(`BEGIN${mode}`);
  // An empty timeout leaves the server's setting alone (withTenant, for application code).
  if (statementTimeout) parts.push(`SET LOCAL statement_timeout = ${literal(statementTimeout)}`);
  if (waiting) parts.push(`SET LOCAL lock_timeout = '0'`);
  if (options.controlLock) parts.push(`SELECT pg_advisory_xact_lock(${controlLockKeys(settings.controlSchema)})`);
  if (!options.lock?.session) parts.push(...locks);
  if (lockTimeout) parts.push(`SET LOCAL lock_timeout = ${literal(lockTimeout)}`);
  else if (waiting) parts.push('SET LOCAL lock_timeout = DEFAULT');
  return { sessionLocks, text: parts.join('; '), lockChecks, before: parts.length };
}

/** The transaction mode after BEGIN: isolation level and READ ONLY. */
function modeSql(options: Pick<BeginOptions, 'readOnly' | 'isolation'>): string {
  return `${options.isolation ? ` ISOLATION LEVEL ${options.isolation.toUpperCase()}` : ''}${options.readOnly ? ' READ ONLY' : ''}`;
}

/** BEGIN with the timeouts in one statement, for a transaction that takes no lock: the text, and how many results it yields. */
function compactBeginSql(
  settings: SessionSettings,
  options: Pick<BeginOptions, 'readOnly' | 'isolation'>,
): { text: string; before: number } {
  const mode = modeSql(options);
  const set: string[] = [];
  if (settings.statementTimeout) set.push(`set_config('statement_timeout', ${literal(settings.statementTimeout)}, true)`);
  if (settings.lockTimeout) set.push(`set_config('lock_timeout', ${literal(settings.lockTimeout)}, true)`);
  return set.length > 0 ? { text: `BEGIN${mode}; SELECT ${set.join(', ')}`, before: 2 } : { text: `BEGIN${mode}`, before: 1 };
}

/**
 * Opens a transaction: one round trip for BEGIN, timeouts, locks and the
 * prelude. A tenant locked by another run rolls the transaction back and comes
 * back as `{ locked: true, id }`, a value, not an error.
 */
export async function begin(client: Queryable, settings: SessionSettings, options: BeginOptions = {}): Promise<Begun> {
  const { sessionLocks, text, lockChecks, before } = beginSql(settings, options);
  const prelude = options.prelude ?? [];
  const full = prelude.length > 0 ? `${text}; ${prelude.join('; ')}` : text;
  const keep = { keepSession: options.keepSession };
  const refusedIn = (results: pg.QueryResult[]) => {
    const answers = results.filter((r) => r.fields?.[0]?.name === 'tc_locked');
    return lockChecks.find((_, i) => answers[i]?.rows[0]?.tc_locked !== true);
  };
  if (sessionLocks) {
    const refused = refusedIn(asResults(await client.query(sessionLocks)));
    if (refused !== undefined) {
      await rollback(client, keep);
      return { locked: true, id: refused };
    }
  }
  const results = asResults(await client.query(full));
  const refused = sessionLocks ? undefined : refusedIn(results);
  if (refused !== undefined) {
    await rollback(client, keep);
    return { locked: true, id: refused };
  }
  return { locked: false, prelude: results.slice(before) };
}

/**
 * Ends a transaction with COMMIT, after `last` (statements that need no answer:
 * the last migration batch, the journal write) in the same message. A COMMIT the
 * server answered with ROLLBACK (something failed and was swallowed) is an error.
 * The session is reset in the same message.
 */
export async function commit(client: Queryable, last = '', options: { keepSession?: boolean } = {}): Promise<pg.QueryResult[]> {
  const reset = options.keepSession ? '' : `; ${SESSION_RESET}; ${SESSION_CHECK}`;
  const results = asResults(await client.query(`${last ? `${last}; ` : ''}COMMIT${reset}`)); // constants, and the caller's statements built with ident()/literal()
  const end = results.find((r) => r.command === 'COMMIT' || r.command === 'ROLLBACK');
  if (!options.keepSession) checkClean(client, results.at(-1));
  if (end?.command === 'ROLLBACK') throw new SwallowedFailure();
  return results;
}

/** ROLLBACK and reset; a session that cannot be reset is marked for destruction. */
export async function rollback(client: Queryable, options: { keepSession?: boolean } = {}): Promise<void> {
  try {
    if (options.keepSession) {
      await client.query('ROLLBACK');
      return;
    }
    const results = asResults(await client.query(`ROLLBACK; ${SESSION_RESET}; ${SESSION_CHECK}`)); // constants: nothing to quote
    checkClean(client, results.at(-1));
  } catch (err) {
    markBroken(client, err);
  }
}

/**
 * Several short transactions in one message, for many tenants' statements at
 * one round trip: each block is `BEGIN (the options' mode and the timeouts);
 * its statements; ROLLBACK`, and the session reset and its check follow the
 * last one. Each statement of a block must be exactly one SQL statement; the
 * answer is each block's statements' results, apart. A statement that fails
 * ends the message there (the server skips the rest): the transaction is rolled
 * back, the session reset, and the error thrown, so that the caller can run the
 * blocks one at a time to learn which one failed.
 */
export async function rolledBackBlocks(
  client: PoolClient,
  settings: SessionSettings,
  options: Pick<BeginOptions, 'readOnly' | 'isolation'>,
  blocks: readonly (readonly string[])[],
  /** pg query settings for the whole message (rowMode, types). */
  config: Record<string, unknown> = {},
): Promise<pg.QueryResult[][]> {
  // No locks here: the timeouts go in one statement (set_config(..., true) is SET LOCAL), one fewer per block.
  const { text: beginText, before } = compactBeginSql(settings, options);
  const text = [...blocks.map((b) => `${beginText}; ${b.join('; ')}; ROLLBACK`), SESSION_RESET, SESSION_CHECK].join('; ');
  let results: pg.QueryResult[];
  try {
    results = asResults(await client.query({ ...config, text } as pg.QueryConfig));
  } catch (err) {
    if (!isConnectionLoss(err)) await rollback(client);
    throw err;
  }
  checkClean(client, results.at(-1));
  const out: pg.QueryResult[][] = [];
  let at = 0;
  for (const b of blocks) {
    out.push(results.slice(at + before, at + before + b.length));
    at += before + b.length + 1;
  }
  return out;
}

/** The transaction failed inside the caller's code and the server rolled it back: nothing was committed. */
export class SwallowedFailure extends Error {
  constructor() {
    super('a statement failed inside the transaction and the server rolled it back; nothing was committed');
  }
}

export interface Tx<C extends Queryable = Queryable> {
  client: C;
  /** Results of BeginOptions.prelude, in order. */
  prelude: pg.QueryResult[];
  /** SQL to send in the same message as COMMIT (it runs first). */
  last(sql: string): void;
  /** End with ROLLBACK instead of COMMIT (nothing to commit); fn's value is still returned. */
  rollbackOnly(): void;
}

export type TxOutcome<T> = { locked: true; id: string } | { locked: false; value: T };

/**
 * BEGIN (timeouts, locks, prelude), fn, then COMMIT with whatever fn left for it,
 * or ROLLBACK on any error (rethrown). Either way the session is reset before it
 * is used again. A lost connection is rethrown for the caller to give the client up.
 */
export async function inTransaction<T, C extends Queryable = Queryable>(
  client: C,
  settings: SessionSettings,
  options: BeginOptions,
  fn: (tx: Tx<C>) => Promise<T>,
): Promise<TxOutcome<T>> {
  let began = false;
  const keep = { keepSession: options.keepSession };
  try {
    const b = await begin(client, settings, options);
    if (b.locked) return b;
    began = true;
    const pending: string[] = [];
    let rollbackOnly = false;
    const value = await fn({
      client,
      prelude: b.prelude,
      last: (sql) => void pending.push(sql),
      rollbackOnly: () => void (rollbackOnly = true),
    });
    began = false;
    if (rollbackOnly) await rollback(client, keep);
    else {
      began = true;
      await commit(client, pending.join('; '), keep);
      began = false;
    }
    return { locked: false, value };
  } catch (err) {
    if (began || !isConnectionLoss(err)) await rollback(client, keep);
    throw err;
  }
}

/**
 * Runs fn with one pooled connection and always gives it back clean: a
 * transaction left open is rolled back, everything the session holds is dropped
 * and checked, and a connection that is lost, cannot be reset, or is no longer
 * the user the pool logged in as is destroyed instead of reused.
 */
export async function withSession<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await fn(client);
  } catch (err) {
    if (isConnectionLoss(err)) markBroken(client, err);
    throw err;
  } finally {
    await releaseClean(client);
  }
}

/** Gives a client back to its pool after a reset and check, or destroys it. */
export async function releaseClean(client: PoolClient): Promise<void> {
  // A client whose last message was a reset that checked clean (a COMMIT or ROLLBACK that reset the session) goes back as it is.
  if (!brokenClients.has(client) && !stillClean(client)) await rollback(client);
  const broken = brokenClients.get(client);
  brokenClients.delete(client);
  client.release(broken ?? false);
}

/** A worker's client between tenants: reset after a failure, or destroyed when it cannot be. */
export function markBroken(client: Queryable, err: unknown): void {
  brokenClients.set(client, err instanceof Error ? err : new Error(String(err)));
}

export function isBroken(client: Queryable): boolean {
  return brokenClients.has(client);
}

const brokenClients = new WeakMap<Queryable, Error>();

function checkClean(client: Queryable, row: pg.QueryResult | undefined): void {
  // node-pg caches the names of prepared statements; DEALLOCATE ALL removed them on the server.
  const connection = (client as unknown as { connection?: { parsedStatements?: Record<string, string> } }).connection;
  if (connection?.parsedStatements) connection.parsedStatements = {};
  // A message sent with rowMode 'array' (rolledBackBlocks for query) gives the check's row as an array: read it by its fields.
  const first: unknown = row?.rows[0];
  const named = Array.isArray(first) ? Object.fromEntries(row!.fields.map((f, i) => [f.name, first[i] as unknown])) : first;
  const r = named as { tc_session_user?: string; tc_current_user?: string; tc_held?: number } | undefined;
  const expected = (client as unknown as { user?: string }).user;
  const clean =
    r !== undefined &&
    r.tc_held === 0 &&
    r.tc_session_user === r.tc_current_user &&
    (expected === undefined || r.tc_session_user === expected);
  if (!clean) markBroken(client, new Error(`session not clean after reset: ${JSON.stringify(r)}`));
  else {
    const sent = messagesSent(client);
    if (sent !== undefined) cleanAfter.set(client, sent);
  }
}

/** For each counted client, how many messages it had sent when a reset last checked clean. */
const cleanAfter = new WeakMap<Queryable, number>();

/** True when the client's last message was a reset that checked clean, and nothing was sent since. */
function stillClean(client: Queryable): boolean {
  const sent = messagesSent(client);
  return sent !== undefined && cleanAfter.get(client) === sent;
}

function asResults(raw: unknown): pg.QueryResult[] {
  return (Array.isArray(raw) ? raw : [raw]) as pg.QueryResult[];
}

export { isConnectionLoss };
export type { Queryable };

/** inTransaction for a transaction that waits for its locks (or takes none): fn's value itself. */
export async function runTransaction<T, C extends Queryable = Queryable>(
  client: C,
  settings: SessionSettings,
  options: Omit<BeginOptions, 'lock'> & { lock?: { ids: readonly string[]; wait: true } },
  fn: (tx: Tx<C>) => Promise<T>,
): Promise<T> {
  const outcome = await inTransaction(client, settings, options, fn);
  if (outcome.locked) throw new Error(`lock on "${outcome.id}" refused while waiting`);
  return outcome.value;
}

/**
 * A tenant's lock held by the session itself, across statements that run outside
 * any transaction (a non-transactional migration) and several transactions (run
 * with `keepSession`), so no other run works on the tenant meanwhile. `wait`
 * blocks until it is free; otherwise a lock held elsewhere is `false`. The
 * session's search_path and timeouts are set for the session (not the
 * transaction), with a check of the client's connection every second where the
 * server has it (PostgreSQL 14 and later), so that a build whose client died
 * stops instead of running on. releaseTenantLock undoes all of it.
 */
export async function holdTenantLock(
  client: PoolClient,
  settings: SessionSettings,
  tenant: { id: string; wait: boolean },
): Promise<boolean> {
  const keys = tenantLockKeys(settings.controlSchema, tenant.id);
  const lock = tenant.wait
    ? `SELECT set_config('lock_timeout', '0', false); SELECT pg_advisory_lock(${keys}), true AS tc_locked`
    : `SELECT pg_try_advisory_lock(${keys}) AS tc_locked`;
  const results = asResults(await client.query(lock));
  return results.at(-1)?.rows[0]?.tc_locked === true;
}

/** Points the whole session (not one transaction) at a tenant, with the configured timeouts: for statements that run outside a transaction. */
export function sessionAsTenantSql(settings: SessionSettings, schema: string): string {
  const parts = [`set_config('search_path', ${literal(tenantSearchPath(schema, settings.sharedSchema))}, false)`];
  if (settings.statementTimeout) parts.push(`set_config('statement_timeout', ${literal(settings.statementTimeout)}, false)`);
  if (settings.lockTimeout) parts.push(`set_config('lock_timeout', ${literal(settings.lockTimeout)}, false)`);
  const check = `SELECT set_config('client_connection_check_interval', '1s', false) WHERE current_setting('server_version_num')::int >= 140000`;
  return `SELECT ${parts.join(', ')}; ${check}`;
}

/** Gives up a lock taken with holdTenantLock and resets the session (which drops every session setting and lock). */
export async function releaseTenantLock(client: PoolClient): Promise<void> {
  await rollback(client);
}
