import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import type { Context } from '../context.js';
import type { Config } from '../config/types.js';
import { assertMigrationsFolder } from '../runtime/migration-files.js';

export interface NewMigrationOptions {
  name: string;
  shared?: boolean;
  sql?: boolean;
  /** For tests: the timestamp prefix (default Date.now()). */
  now?: number;
}

const JS_TEMPLATE = `/**
 * @type {import('node-pg-migrate').ColumnDefinitions | undefined}
 */
export const shorthands = undefined;

/**
 * @param pgm {import('node-pg-migrate').MigrationBuilder}
 * @returns {Promise<void> | void}
 */
export const up = (pgm) => {};

/**
 * @param pgm {import('node-pg-migrate').MigrationBuilder}
 * @returns {Promise<void> | void}
 */
export const down = (pgm) => {};
`;

const SQL_TEMPLATE = `-- Up Migration

-- Down Migration
`;

export function validateNewMigrationOptions(options: NewMigrationOptions): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/.test(options.name)) {
    throw new InputError('invalid_migration_name', `invalid migration name "${options.name}": use letters, digits, - and _`);
  }
}

/**
 * Writes a new node-pg-migrate migration file, named like node-pg-migrate does
 * (timestamp prefix). Needs the config only, no database.
 */
export async function newMigration(ctx: Context | { config: Config }, options: NewMigrationOptions): Promise<{ path: string }> {
  validateNewMigrationOptions(options);
  const shared = options.shared ?? false;
  const dir = shared ? ctx.config.sharedMigrations : ctx.config.tenantMigrations;
  assertMigrationsFolder(dir, shared ? 'sharedMigrations' : 'tenantMigrations', false);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${options.now ?? Date.now()}_${options.name}.${options.sql ? 'sql' : 'js'}`);
  if (existsSync(path)) throw new InputError('migration_exists', `${path} already exists`);
  writeFileSync(path, options.sql ? SQL_TEMPLATE : JS_TEMPLATE, { flag: 'wx' });
  return { path };
}
