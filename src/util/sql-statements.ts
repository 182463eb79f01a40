/**
 * Splits SQL text into statements the way the server's lexer sees them:
 * semicolons inside quotes ('...', E'...', "..."), dollar-quoted bodies and
 * comments (-- and nested /* *\/) do not end a statement. Returns each
 * statement's leading words, upper-cased, enough to tell what kind it is.
 */
export interface StatementHead {
  /** The first few words of the statement, upper-cased, comments and quotes skipped. */
  words: string[];
  /** 1-based line of the statement's first word. */
  line: number;
}

export function statementHeads(sql: string, maxWords = 4): StatementHead[] {
  const heads: StatementHead[] = [];
  let words: string[] = [];
  let line = 1;
  let startLine = 0;
  let i = 0;
  const n = sql.length;
  const end = () => {
    if (words.length > 0) heads.push({ words, line: startLine });
    words = [];
  };
  const word = (w: string) => {
    if (words.length === 0) startLine = line;
    if (words.length < maxWords) words.push(w);
  };
  const countLines = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (sql[k] === '\n') line++;
  };
  while (i < n) {
    const c = sql[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ';') {
      end();
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      let depth = 0;
      const from = i;
      while (i < n) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
          if (depth === 0) break;
        } else i++;
      }
      countLines(from, i);
    } else if (c === "'" || ((c === 'E' || c === 'e') && sql[i + 1] === "'" && !isWordChar(sql[i - 1]))) {
      const escapes = c !== "'";
      if (escapes) i++;
      const from = i;
      i++;
      while (i < n) {
        if (escapes && sql[i] === '\\') i += 2;
        else if (sql[i] === "'" && sql[i + 1] === "'") i += 2;
        else if (sql[i] === "'") {
          i++;
          break;
        } else i++;
      }
      countLines(from, i);
      word("'");
    } else if (c === '"') {
      const from = i;
      i++;
      while (i < n) {
        if (sql[i] === '"' && sql[i + 1] === '"') i += 2;
        else if (sql[i] === '"') {
          i++;
          break;
        } else i++;
      }
      countLines(from, i);
      word('"');
    } else if (c === '$' && !isWordChar(sql[i - 1])) {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (!m) {
        i++;
        continue;
      }
      const tag = m[0];
      const close = sql.indexOf(tag, i + tag.length);
      const to = close < 0 ? n : close + tag.length;
      countLines(i, to);
      i = to;
      word('$');
    } else if (isWordStart(c)) {
      const from = i;
      while (i < n && isWordChar(sql[i])) i++;
      word(sql.slice(from, i).toUpperCase());
    } else i++;
  }
  end();
  return heads;
}

function isWordStart(c: string): boolean {
  return /[A-Za-z_\u0080-\uFFFF]/.test(c);
}

function isWordChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_$\u0080-\uFFFF]/.test(c);
}

/**
 * Statements that would end the caller's transaction or change who the session
 * is: transaction control, and role or session authorization changes.
 */
export function escapingStatement(head: StatementHead): string | undefined {
  const [a = '', b = '', c = ''] = head.words;
  if (['BEGIN', 'START', 'COMMIT', 'END', 'ABORT'].includes(a)) return a;
  if (a === 'ROLLBACK' && b !== 'TO') return 'ROLLBACK';
  if (a === 'PREPARE' && b === 'TRANSACTION') return 'PREPARE TRANSACTION';
  if (
    (a === 'SET' || a === 'RESET') &&
    (b === 'ROLE' ||
      b === 'SESSION_AUTHORIZATION' ||
      (b === 'SESSION' && (c === 'AUTHORIZATION' || c === 'ROLE')) ||
      (b === 'LOCAL' && c === 'ROLE'))
  ) {
    return `${a} ${b === 'LOCAL' || b === 'SESSION' ? `${b} ${c}` : b}`;
  }
  if (a === 'DISCARD') return 'DISCARD';
  return undefined;
}
