// Where a statement is: byte offsets from the parser to file lines, and a one-line excerpt for messages.

/** A piece of SQL as the parser saw it, and where it sits in its file (null for generated SQL). */
export class SourceText {
  private readonly bytes: Buffer;
  private readonly firstLine: number | null;

  constructor(sql: string, file?: { text: string; offset: number }) {
    this.bytes = Buffer.from(sql, 'utf8');
    this.firstLine = file ? countNewlines(file.text.slice(0, file.offset)) + 1 : null;
  }

  /** The file line of a byte offset into the SQL; null when the SQL was generated. */
  lineAt(byteOffset: number): number | null {
    if (this.firstLine === null) return null;
    const upTo = this.bytes.subarray(0, Math.max(0, byteOffset));
    let n = 0;
    for (const b of upTo) if (b === 0x0a) n++;
    return this.firstLine + n;
  }

  /** The statement's own first byte: past whitespace the parser may include. */
  start(offset: number, length: number): number {
    let at = offset;
    while (at < offset + length && isSpace(this.bytes[at]!)) at++;
    return at;
  }

  /** Its length in bytes. */
  get length(): number {
    return this.bytes.length;
  }

  /** The text between two byte offsets. */
  slice(from: number, to: number): string {
    return this.bytes.subarray(from, to).toString('utf8');
  }

  /** The statement, whitespace collapsed, cut at `max` characters. */
  excerpt(offset: number, length: number, max = 160): string {
    const text = this.bytes
      .subarray(offset, offset + length)
      .toString('utf8')
      .replace(/\s+/g, ' ')
      .trim();
    return text.length > max ? `${text.slice(0, max - 3)}...` : text;
  }
}

function countNewlines(s: string): number {
  let n = 0;
  for (const c of s) if (c === '\n') n++;
  return n;
}

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x0c;
}
