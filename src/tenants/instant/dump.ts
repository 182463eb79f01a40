import { execFile } from 'node:child_process';
import type { Context } from '../../context.js';

/**
 * One schema's structure, privileges and rows as SQL, from pg_dump (plain
 * format, rows as INSERTs, every name qualified), made fit to run inside a
 * create transaction: the session-level settings of its header become
 * transaction-local ones, and psql's meta-commands are left out.
 */
export async function dumpSchema(ctx: Context, schema: string): Promise<string> {
  const { url, env } = connectionOf(ctx);
  const args = [
    '--schema',
    `"${schema.replace(/"/g, '""')}"`,
    '--inserts',
    '--no-tablespaces',
    '--no-publications',
    '--no-subscriptions',
    '--no-security-labels',
  ];
  if (url) args.push('--dbname', url);
  const text = await new Promise<string>((resolve, reject) => {
    execFile('pg_dump', args, { env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`pg_dump failed: ${(stderr || err.message).trim().split('\n')[0]}`));
      else resolve(stdout);
    });
  });
  return runnable(text);
}

/**
 * Why this machine's pg_dump cannot dump this server (not on the PATH, or older
 * than the server), or undefined when it can. Asked before a template is built.
 */
export async function dumpUnavailable(ctx: Context): Promise<string | undefined> {
  const version = await new Promise<string | undefined>((resolve) => {
    execFile('pg_dump', ['--version'], (err, stdout) => resolve(err ? undefined : stdout));
  });
  if (version === undefined) return 'pg_dump is not on the PATH';
  const dumpMajor = Number(/(\d+)(\.\d+)?/.exec(version)?.[1] ?? 0);
  const r = await ctx.pool.query<{ num: string }>(`SELECT current_setting('server_version_num') AS num`);
  const serverMajor = Math.floor(Number(r.rows[0]!.num) / 10000);
  if (dumpMajor < serverMajor) return `pg_dump ${dumpMajor} cannot dump PostgreSQL ${serverMajor}; install pg_dump ${serverMajor} or later`;
  return undefined;
}

/** The dump without its header (session SETs, search_path, psql's \restrict) and footer; SETs between objects made LOCAL. */
export function runnable(dump: string): string {
  const lines = dump.split('\n');
  const first = lines.findIndex((l) => l.startsWith('-- Name: '));
  const body = first < 0 ? [] : lines.slice(first - 1);
  const out = body
    .filter((l) => !/^\\(un)?restrict /.test(l))
    .map((l) =>
      /^SET (default_tablespace|default_table_access_method|default_with_oids) = [^;]*;$/.test(l) ? l.replace(/^SET /, 'SET LOCAL ') : l,
    );
  // Settings the dump relies on: fully qualified names, function bodies not checked before their tables exist.
  while (out.length > 0 && (out.at(-1)!.trim() === '' || out.at(-1)!.startsWith('--'))) out.pop();
  return [
    `SET LOCAL search_path = '';`,
    'SET LOCAL check_function_bodies = false;',
    'SET LOCAL client_min_messages = warning;',
    ...out,
  ].join('\n');
}

function connectionOf(ctx: Context): { url: string; env: Record<string, string> } {
  const o =
    (
      ctx.pool as unknown as {
        options?: { connectionString?: string; host?: string; port?: number; user?: string; password?: string; database?: string };
      }
    ).options ?? {};
  const env: Record<string, string> = {};
  if (o.host) env.PGHOST = o.host;
  if (o.port) env.PGPORT = String(o.port);
  if (o.user) env.PGUSER = o.user;
  if (typeof o.password === 'string') env.PGPASSWORD = o.password;
  if (o.database) env.PGDATABASE = o.database;
  return { url: o.connectionString ?? '', env };
}
