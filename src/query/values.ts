import pg from 'pg';

/**
 * How query rows come back: numbers, booleans and JSON as JavaScript values;
 * everything else (dates, timestamps, numeric, bigint, arrays, ranges) as the
 * server's own text, so CSV shows what psql shows and nothing loses precision.
 */
const PARSED = new Set<number>([16, 21, 23, 700, 701, 114, 3802]);

export const queryTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (PARSED.has(oid)) return pg.types.getTypeParser(oid, format ?? 'text');
    return (value: string) => value;
  },
};
