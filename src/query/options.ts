import { usage } from '../errors.js';
import { validatePolicy } from '../runtime/fleet.js';
import { validateIds } from '../runtime/lookup.js';
import { loadSql } from './sql-source.js';

/** What `query` takes, and its check before any connection (exit 2 for anything wrong). */
export const QUERY_FORMATS = ['table', 'csv', 'json'] as const;
export type QueryFormat = (typeof QUERY_FORMATS)[number];

export interface QueryOptions {
  sql?: string;
  file?: string;
  /** Only these tenants (active or suspended); default every active tenant. */
  tenants?: string[];
  concurrency?: number;
}

export interface ValidQuery {
  sql: string;
  tenants: string[] | undefined;
  concurrency: number | undefined;
}

export function validateQueryOptions(options: QueryOptions): ValidQuery {
  const tenants = validateIds(options.tenants);
  if (tenants && tenants.length === 0) throw usage('--tenant needs at least one tenant id');
  validatePolicy({ concurrency: options.concurrency });
  const { sql, heads, source } = loadSql(
    options,
    'query',
    (kind) =>
      `query runs one read-only statement in a transaction of its own per tenant, and ${kind} would end that transaction or change its role`,
  );
  if (heads.length > 1) {
    throw usage(
      `${source} holds ${heads.length} statements (line ${heads[1]!.line} starts the second); query runs exactly one, whose rows make the result set`,
    );
  }
  return { sql, tenants, concurrency: options.concurrency };
}

export function validateQueryFormat(format: string | undefined): QueryFormat {
  if (format === undefined) return 'table';
  if (!(QUERY_FORMATS as readonly string[]).includes(format))
    throw usage(`--format must be one of ${QUERY_FORMATS.join(', ')}, got "${format}"`);
  return format as QueryFormat;
}
