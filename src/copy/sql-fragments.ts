import { ident } from '../util/quote.js';

/** `l."a" = r."x" AND l."b" = r."y"`: two column lists matched pairwise. */
export function columnsMatch(left: string, leftColumns: readonly string[], right: string, rightColumns: readonly string[]): string {
  return leftColumns.map((c, i) => `${left}.${ident(c)} = ${right}.${ident(rightColumns[i]!)}`).join(' AND ');
}

/** `k.rel = s.tableoid AND k.rid = s.ctid`: a staged row is this source row (its position in the snapshot). */
export function isStaged(stageAlias: string, rowAlias: string): string {
  return `${stageAlias}.rel = ${rowAlias}.tableoid AND ${stageAlias}.rid = ${rowAlias}.ctid`;
}
