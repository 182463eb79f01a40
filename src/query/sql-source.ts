import { readFileSync } from 'node:fs';
import { InputError, usage } from '../errors.js';
import { escapingStatement, statementHeads, type StatementHead } from '../util/sql-statements.js';

/**
 * The SQL a command was handed with -c or -f, read and checked before any
 * connection: exactly one source, readable, no NUL byte, at least one
 * statement, and none that would end the command's transaction or change its
 * role (the caller says why in `refusal`).
 */
export interface SqlSource {
  sql?: string;
  file?: string;
}

export function loadSql(
  options: SqlSource,
  command: string,
  refusal: (kind: string) => string,
): { sql: string; heads: StatementHead[]; source: string } {
  if ((options.sql === undefined) === (options.file === undefined)) throw usage(`${command} needs exactly one of -c SQL or -f FILE`);
  let sql = options.sql ?? '';
  if (options.file !== undefined) {
    try {
      sql = readFileSync(options.file, 'utf8');
    } catch (err) {
      throw new InputError('file_not_found', `cannot read ${options.file}: ${(err as Error).message}`);
    }
  }
  const source = options.file ?? '-c';
  if (sql.includes('\u0000'))
    throw new InputError('invalid_sql', `${source} holds a NUL byte, which PostgreSQL does not accept in SQL text`);
  const heads = statementHeads(sql);
  if (heads.length === 0) throw usage(`${source} holds no SQL statement`);
  for (const head of heads) {
    const kind = escapingStatement(head);
    if (kind)
      throw new InputError('transaction_control', `${source} line ${head.line}: ${kind} is not allowed in ${command}: ${refusal(kind)}`);
  }
  return { sql, heads, source };
}
