/** A plain text table: a header row (upper case, like kubectl, unless told) and columns padded to their widest cell. */
export function table(headers: string[], rows: (string | number | null | undefined)[][], options: { upper?: boolean } = {}): string[] {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [fmt(options.upper === false ? headers : headers.map((h) => h.toUpperCase())), ...cells.map(fmt)];
}
