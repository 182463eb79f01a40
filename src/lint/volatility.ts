// Whether a column default is volatile (evaluated per row, so ADD COLUMN rewrites the table), judged from
// the functions it calls: known volatile ones, known stable or immutable ones, and the rest unknown.
import type { FuncCall } from 'libpg-query';
import { funcName } from './names.js';

const VOLATILE = new Set([
  'random',
  'random_normal',
  'gen_random_uuid',
  'gen_random_bytes',
  'uuid_generate_v1',
  'uuid_generate_v1mc',
  'uuid_generate_v4',
  'uuidv4',
  'uuidv7',
  'clock_timestamp',
  'timeofday',
  'nextval',
  'setval',
  'txid_current',
  'pg_current_xact_id',
]);

/** Stable or immutable: one value for every existing row, so PostgreSQL 11+ stores it without a rewrite. */
const NOT_VOLATILE = new Set([
  'now',
  'transaction_timestamp',
  'statement_timestamp',
  'current_setting',
  'current_database',
  'current_schema',
  'version',
  'lower',
  'upper',
  'btrim',
  'trim',
  'concat',
  'concat_ws',
  'length',
  'md5',
  'replace',
  'substr',
  'substring',
  'left',
  'right',
  'to_char',
  'to_date',
  'to_timestamp',
  'to_number',
  'date_trunc',
  'date_part',
  'make_date',
  'make_time',
  'make_timestamp',
  'make_timestamptz',
  'make_interval',
  'timezone',
  'abs',
  'round',
  'floor',
  'ceil',
  'greatest',
  'least',
  'json_build_object',
  'json_build_array',
  'jsonb_build_object',
  'jsonb_build_array',
  'to_json',
  'to_jsonb',
  'array_fill',
  'int2',
  'int4',
  'int8',
  'text',
  'numeric',
  'float8',
  'bool',
  'date',
  'timestamptz',
  'timestamp',
]);

export type Volatility = { kind: 'safe' } | { kind: 'volatile'; name: string } | { kind: 'unknown'; name: string };

export function defaultVolatility(expr: unknown): Volatility {
  let unknown: string | undefined;
  let volatile: string | undefined;
  walk(expr, (key, value) => {
    if (key === 'FuncCall') {
      const name = funcName(value as FuncCall);
      if (VOLATILE.has(name)) volatile ??= `${name}()`;
      else if (!NOT_VOLATILE.has(name)) unknown ??= `${name}()`;
    } else if (key === 'SubLink') unknown ??= 'a subquery';
  });
  if (volatile) return { kind: 'volatile', name: volatile };
  if (unknown) return { kind: 'unknown', name: unknown };
  return { kind: 'safe' };
}

function walk(node: unknown, visit: (key: string, value: unknown) => void): void {
  if (Array.isArray(node)) for (const item of node) walk(item, visit);
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      visit(key, value);
      walk(value, visit);
    }
  }
}
