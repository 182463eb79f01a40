import { isAbsolute, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { CONFIG_KEYS, DEFAULT_CONFIG, type Config, type RawConfig } from './types.js';

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const PREFIX = /^[a-z_][a-z0-9_]{0,13}$|^$/;
const DURATION = /^\d+\s*(us|ms|s|min|h|d)?$/;

type Check = (value: unknown) => string | undefined;

const isName: Check = (v) => (typeof v === 'string' && NAME.test(v) ? undefined : 'a lowercase SQL name ([a-z_][a-z0-9_]*, at most 63 characters)');
const isPrefix: Check = (v) => (typeof v === 'string' && PREFIX.test(v) ? undefined : 'a lowercase prefix ([a-z_][a-z0-9_]*, at most 14 characters)');
const isPath: Check = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'a non-empty path');
const isBool: Check = (v) => (typeof v === 'boolean' ? undefined : 'true or false');
const isConcurrency: Check = (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 256 ? undefined : 'an integer from 1 to 256');
const isRetries: Check = (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 100 ? undefined : 'an integer from 0 to 100');
const isDuration: Check = (v) =>
  (typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'string' && DURATION.test(v.trim()))
    ? undefined
    : 'a duration: milliseconds as a number, or text such as "5s", "500ms", "2min"';

const CHECKS: Record<(typeof CONFIG_KEYS)[number], Check> = {
  controlSchema: isName,
  schemaPrefix: isPrefix,
  sharedSchema: isName,
  tenantMigrations: isPath,
  sharedMigrations: isPath,
  ownershipColumn: isName,
  roles: isBool,
  concurrency: isConcurrency,
  lockTimeout: isDuration,
  statementTimeout: isDuration,
  lockRetries: isRetries,
};

function durationText(v: string | number): string {
  return typeof v === 'number' ? `${v}ms` : v.replace(/\s+/g, '');
}

/**
 * Validates a raw config (file contents merged under flags) and applies defaults.
 * Every problem is collected, then one InputError names them all. Relative
 * migration folders resolve against `baseDir` (the config file's folder).
 */
export function resolveConfig(raw: RawConfig, baseDir: string, source = 'config'): Config {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InputError('invalid_config', `${source}: must be a JSON object`);
  }
  const problems: string[] = [];
  for (const key of Object.keys(raw)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) problems.push(`unknown key "${key}"`);
  }
  for (const key of CONFIG_KEYS) {
    const value = raw[key];
    if (value === undefined) continue;
    const want = CHECKS[key](value);
    if (want) problems.push(`"${key}" must be ${want}, got ${JSON.stringify(value)}`);
  }
  if (problems.length > 0) {
    throw new InputError('invalid_config', `${source}: ${problems.join('; ')}`, { problems });
  }
  const pick = <K extends keyof Config>(key: K): Config[K] => (raw[key as keyof RawConfig] ?? DEFAULT_CONFIG[key]) as Config[K];
  const dir = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const config: Config = {
    controlSchema: pick('controlSchema'),
    schemaPrefix: pick('schemaPrefix'),
    sharedSchema: pick('sharedSchema'),
    tenantMigrations: dir(pick('tenantMigrations')),
    sharedMigrations: dir(pick('sharedMigrations')),
    ownershipColumn: pick('ownershipColumn'),
    roles: pick('roles'),
    concurrency: pick('concurrency'),
    lockTimeout: durationText(pick('lockTimeout') as string | number),
    statementTimeout: durationText(pick('statementTimeout') as string | number),
    lockRetries: pick('lockRetries'),
  };
  if (config.controlSchema === config.sharedSchema) {
    throw new InputError('invalid_config', `${source}: "controlSchema" and "sharedSchema" must differ`);
  }
  return config;
}
