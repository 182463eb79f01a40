import { InputError } from '../errors.js';
import { assertTenantId, assertText } from '../runtime/ids.js';
import { assertWhereText } from './where.js';
import { ON_CONFLICT_MODES, type OnConflict, type TransferOptions } from './types.js';

export interface ValidOptions {
  from: string;
  to: string;
  tables: string[] | undefined;
  where: string | undefined;
  onConflict: OnConflict;
  remapKeys: boolean;
  dryRun: boolean;
}

/** Everything that can be refused without the database, refused before any SQL runs. */
export function validateTransferOptions(options: TransferOptions): ValidOptions {
  assertTenantId(options.from);
  assertTenantId(options.to);
  if (options.from === options.to) {
    throw new InputError('same_tenant', `source and target are both "${options.from}"; name two different tenants`);
  }
  const onConflict = options.onConflict ?? 'error';
  if (!ON_CONFLICT_MODES.includes(onConflict)) {
    throw new InputError('usage', `--on-conflict must be one of ${ON_CONFLICT_MODES.join(', ')}, got "${String(onConflict)}"`);
  }
  if (options.tables !== undefined && options.tables.length === 0)
    throw new InputError('usage', '--table needs at least one table name; leave it out to take every table');
  const tables = options.tables ? [...new Set(options.tables)] : undefined;
  const blank = tables?.find((t) => t.trim().length === 0);
  if (blank !== undefined) throw new InputError('usage', '--table needs a table name');
  if (options.where !== undefined && options.where.trim().length === 0) throw new InputError('usage', '--where needs a condition');
  if (options.where !== undefined) {
    assertText('--where', options.where);
    assertWhereText(options.where);
  }
  if (options.where !== undefined && !tables) {
    throw new InputError('usage', '--where filters the tables named with --table; name them (e.g. --table customers --where "id = 7")');
  }
  return {
    from: options.from,
    to: options.to,
    tables,
    where: options.where,
    onConflict,
    remapKeys: options.remapKeys ?? false,
    dryRun: options.dryRun ?? false,
  };
}
