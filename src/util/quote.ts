import pg from 'pg';

/**
 * The one place identifiers and literals become SQL text, through pg's own
 * escapeIdentifier and escapeLiteral. Values are bound as parameters everywhere
 * else; literals are only for statements that cannot take parameters (SET,
 * DDL) and for statements sent together in one simple-protocol message.
 * Trusted catalog text (format_type output, which quotes itself) is the only
 * other SQL text pasted in, and --where by design.
 */
export function ident(name: string): string {
  return pg.escapeIdentifier(name);
}

export function qualified(schema: string, name: string): string {
  return `${ident(schema)}.${ident(name)}`;
}

/** A string literal. pg writes ` E'...'` (with a leading space) when the value holds a backslash; the space is dropped here so the text can follow `=` or `(` directly. */
export function literal(value: string): string {
  return pg.escapeLiteral(value).trimStart();
}
