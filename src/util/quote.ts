/**
 * The one place identifiers and literals become SQL text. Values are bound as
 * parameters everywhere else; literals are only for statements that cannot take
 * parameters (SET, DDL).
 */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualified(schema: string, name: string): string {
  return `${ident(schema)}.${ident(name)}`;
}

/** A string literal, as pg's escapeLiteral writes it. */
export function literal(value: string): string {
  let backslash = false;
  let out = "'";
  for (const c of value) {
    if (c === "'") out += "''";
    else if (c === '\\') {
      out += '\\\\';
      backslash = true;
    } else out += c;
  }
  out += "'";
  return backslash ? `E${out}` : out;
}
