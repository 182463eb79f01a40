import { stripVTControlCharacters } from 'node:util';

/**
 * A plain text table: a header row (upper case, like kubectl, unless told) and
 * columns padded to their widest cell; widths count what a terminal shows, not
 * colour codes.
 */
export function table(headers: string[], rows: (string | number | null | undefined)[][], options: { upper?: boolean } = {}): string[] {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
  const width = (text: string) => stripVTControlCharacters(text).length;
  const widths = headers.map((h, i) => Math.max(width(h), ...cells.map((r) => width(r[i]!))));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(Math.max(0, widths[i]! - width(c)))))
      .join('  ')
      .trimEnd();
  return [fmt(options.upper === false ? headers : headers.map((h) => h.toUpperCase())), ...cells.map(fmt)];
}
