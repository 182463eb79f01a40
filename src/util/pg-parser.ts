// PostgreSQL's parser and scanner (libpg-query, WASM), loaded on first use: a migration's SQL as
// single statements with their byte ranges, and a statement's tokens.
export interface Statement {
  /** The statement's node type, e.g. "IndexStmt", and its body. */
  type: string;
  node: Record<string, unknown>;
  /** Byte offset and length in the UTF-8 text (the parser counts bytes). */
  offset: number;
  length: number;
}

export interface Token {
  start: number;
  end: number;
  text: string;
  keywordName: string;
}

type Parsed = { stmts?: { stmt?: Record<string, Record<string, unknown>>; stmt_location?: number; stmt_len?: number }[] };
let pgQuery: { parseSync: (sql: string) => Parsed; scanSync: (sql: string) => { tokens: Token[] } } | undefined;

async function load() {
  if (!pgQuery) {
    const mod = await import('libpg-query');
    await mod.loadModule();
    pgQuery = {
      parseSync: mod.parseSync as unknown as (sql: string) => Parsed,
      scanSync: mod.scanSync as unknown as (sql: string) => { tokens: Token[] },
    };
  }
  return pgQuery;
}

/** The statements of an SQL text, or undefined when it does not parse (the server names the error when it runs). */
export async function parseStatements(sql: string): Promise<Statement[] | undefined> {
  const { parseSync } = await load();
  let parsed: Parsed;
  try {
    parsed = parseSync(sql);
  } catch {
    return undefined;
  }
  const bytes = Buffer.byteLength(sql, 'utf8');
  const out: Statement[] = [];
  for (const raw of parsed.stmts ?? []) {
    if (!raw.stmt) continue;
    const [type, node] = Object.entries(raw.stmt)[0]!;
    const offset = raw.stmt_location ?? 0;
    // The last statement's length is 0 when it runs to the end of the text.
    out.push({ type, node, offset, length: raw.stmt_len ? raw.stmt_len : bytes - offset });
  }
  return out;
}

/** The tokens of one statement's text, with byte offsets. */
export async function scanTokens(sql: string): Promise<Token[]> {
  return (await load()).scanSync(sql).tokens;
}
