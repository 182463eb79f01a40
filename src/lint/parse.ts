// PostgreSQL's own parser (libpg-query, WASM): SQL text to statements with their byte ranges, or the syntax error.
import type { Node } from 'libpg-query';

export interface ParsedStatement {
  /** The statement's node type, e.g. "IndexStmt", and its body. */
  type: string;
  node: Record<string, unknown>;
  /** Byte offset and length in the UTF-8 text (the parser counts bytes). */
  offset: number;
  length: number;
}

export type ParseOutcome = { ok: true; statements: ParsedStatement[] } | { ok: false; message: string; offset: number };

type Parser = (sql: string) => { stmts?: { stmt?: Node; stmt_location?: number; stmt_len?: number }[] };
let parser: Parser | undefined;

/** Loads the parser's WASM module once; commands that lint nothing never load it. */
async function loadParser(): Promise<Parser> {
  if (!parser) {
    const mod = await import('libpg-query');
    await mod.loadModule();
    parser = mod.parseSync;
  }
  return parser;
}

export async function parseSql(sql: string): Promise<ParseOutcome> {
  const parse = await loadParser();
  const bytes = Buffer.byteLength(sql, 'utf8');
  if (sql.trim() === '') return { ok: true, statements: [] };
  try {
    const result = parse(sql);
    const statements: ParsedStatement[] = [];
    for (const raw of result.stmts ?? []) {
      if (!raw.stmt) continue;
      const [type, node] = Object.entries(raw.stmt)[0] as [string, Record<string, unknown>];
      const offset = raw.stmt_location ?? 0;
      // The last statement's length is 0 when it runs to the end of the text.
      const length = raw.stmt_len ? raw.stmt_len : bytes - offset;
      statements.push({ type, node, offset, length });
    }
    return { ok: true, statements };
  } catch (err) {
    const e = err as { message?: string; sqlDetails?: { cursorPosition?: number } };
    // cursorPosition counts from 1; 0 means "unknown".
    const cursor = e.sqlDetails?.cursorPosition ?? 0;
    return { ok: false, message: e.message ?? String(err), offset: Math.max(0, cursor - 1) };
  }
}
