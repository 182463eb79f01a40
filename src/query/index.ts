// `query`: read-only SQL across the fleet, one result set.
export { queryTenants, type QueryResult, type QueryRows, type QueryTenantOutcome } from './run.js';
export { validateQueryOptions, validateQueryFormat, QUERY_FORMATS, type QueryOptions, type QueryFormat } from './options.js';
export { loadSql, type SqlSource } from './sql-source.js';
