import { InputError } from '../errors.js';

/**
 * The --where condition is the user's SQL, pasted into the statement that
 * selects rows; these are the checks it gets before any connection. A
 * positional parameter ($1, $2) in it would be bound to tenantctl's own values
 * or make the server refuse the statement's parameters: it is bad input. The
 * scan skips string constants, quoted identifiers, comments and dollar-quoted
 * text, as PostgreSQL's lexer does.
 */
export function assertWhereText(where: string): void {
  const param = findParameter(where);
  if (param !== undefined) {
    throw new InputError(
      'invalid_where',
      `--where ${JSON.stringify(where)} uses the parameter ${param}; --where takes no parameters: write the value into the condition`,
    );
  }
}

const IDENT_CHAR = /[\p{L}\p{N}_$]/u;

/** The first positional parameter ($n) outside quotes and comments, if any. */
export function findParameter(sql: string): string | undefined {
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end + 1;
    } else if (c === '/' && next === '*') {
      i = skipBlockComment(sql, i);
    } else if (c === "'") {
      // E'...' allows backslash escapes; with standard_conforming_strings a plain '...' does not.
      const escapes = i > 0 && /[eE]/.test(sql[i - 1]!) && (i < 2 || !IDENT_CHAR.test(sql[i - 2]!));
      i = skipQuoted(sql, i, "'", escapes);
    } else if (c === '"') {
      i = skipQuoted(sql, i, '"', false);
    } else if (c === '$' && (i === 0 || !IDENT_CHAR.test(sql[i - 1]!))) {
      const param = /^\$\d+/.exec(sql.slice(i));
      if (param) return param[0];
      const tag = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? sql.length : end + tag[0].length;
      } else i++;
    } else if (IDENT_CHAR.test(c)) {
      // A whole word: $ inside an identifier (a$1) is part of its name.
      while (i < sql.length && IDENT_CHAR.test(sql[i]!)) i++;
    } else i++;
  }
  return undefined;
}

function skipQuoted(sql: string, start: number, quote: string, escapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i]!;
    if (escapes && c === '\\') i += 2;
    else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return i;
}

/** Block comments nest in PostgreSQL. */
function skipBlockComment(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return i;
}
