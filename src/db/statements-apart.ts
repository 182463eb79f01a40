import type pg from 'pg';
import { parseStatements } from '../util/pg-parser.js';

/**
 * Citus propagates a DDL statement to the workers by forwarding the whole text
 * of the message it came in: a message of several statements that holds DDL
 * fails on the workers ("cannot insert multiple commands into a prepared
 * statement"). So on a database with the citus extension each client sends such
 * a message in parts: every utility statement alone, the statements between
 * them (queries, DML, SET, transaction control) together. The caller sees what
 * pg gives for one message: one result per statement, the first error with its
 * position in the whole text, and outside an explicit transaction all or
 * nothing (the parts are wrapped in one, as the server does for one message).
 * Elsewhere nothing changes.
 */

type RawQuery = (...args: unknown[]) => unknown;

/** Statements that are not utility commands: Citus plans them itself, never forwarding the message's text. */
const PLANNED = new Set(['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'TransactionStmt', 'VariableSetStmt', 'VariableShowStmt']);

/**
 * Wraps a new client's query: asks once whether the database has Citus (sent
 * first, before anything the client is used for), then sends multi-statement
 * messages apart there. Calls made before the answer keep their order.
 */
export function sendApartOnCitus(client: pg.PoolClient, query: RawQuery): RawQuery {
  let citus: boolean | undefined;
  let status = 'I';
  (client as unknown as { connection?: { on(event: string, fn: (m: { status?: string }) => void): void } }).connection?.on(
    'readyForQuery',
    (m) => {
      if (typeof m.status === 'string') status = m.status;
    },
  );
  let known = (query(`SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'citus') AS citus`) as Promise<pg.QueryResult>)
    .then((r) => {
      citus = r.rows[0]?.citus === true;
    })
    .catch(() => {
      citus = false;
    });
  const send = (args: unknown[]): unknown => {
    if (!citus || args.length !== 1 || typeof args[0] !== 'string' || !args[0].includes(';')) return query(...args);
    return sendApart(args[0], query, () => status);
  };
  return (...args: unknown[]) => {
    if (citus !== undefined) return send(args);
    const plain = typeof args[0] === 'string' || (typeof args[0] === 'object' && args[0] !== null && 'text' in args[0]);
    if (!plain || typeof args.at(-1) === 'function') return query(...args);
    const result = known.then(() => send(args));
    known = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  };
}

async function sendApart(text: string, query: RawQuery, status: () => string): Promise<unknown> {
  const statements = await parseStatements(text);
  if (!statements || statements.length < 2 || statements.every((s) => PLANNED.has(s.type))) return query(text);
  const bytes = Buffer.from(text, 'utf8');
  const charAt = (byteOffset: number) => bytes.subarray(0, byteOffset).toString('utf8').length;
  // Runs of planned statements go together; each utility statement goes alone.
  const parts: { start: number; end: number; alone: boolean }[] = [];
  for (const s of statements) {
    const last = parts.at(-1);
    const alone = !PLANNED.has(s.type);
    if (last && !alone && !last.alone) last.end = s.offset + s.length;
    else parts.push({ start: s.offset, end: s.offset + s.length, alone });
  }
  const wrap = status() === 'I' && !statements.some((s) => s.type === 'TransactionStmt');
  const results: pg.QueryResult[] = [];
  if (wrap) await query('BEGIN');
  try {
    for (const part of parts) {
      const sql = bytes.subarray(part.start, part.end).toString('utf8');
      try {
        const r = (await query(sql)) as pg.QueryResult | pg.QueryResult[];
        results.push(...(Array.isArray(r) ? r : [r]));
      } catch (err) {
        const e = err as { position?: string };
        if (e.position !== undefined && Number.isInteger(Number(e.position))) e.position = String(Number(e.position) + charAt(part.start));
        throw err;
      }
    }
    if (wrap) await query('COMMIT');
  } catch (err) {
    if (wrap) await (query('ROLLBACK') as Promise<unknown>).catch(() => undefined);
    throw err;
  }
  return results;
}
