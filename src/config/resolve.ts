import { isAbsolute, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { CONFIG_KEYS, DEFAULT_CONFIG, HOME_SERVER, type Config, type RawConfig, type ReferenceTables } from './types.js';

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const PREFIX = /^[a-z_][a-z0-9_]{0,13}$|^$/;
const DURATION = /^(\d+)\s*(us|ms|s|min|h|d)?$/;

type Check = (value: unknown) => string | undefined;

const isName: Check = (v) =>
  typeof v === 'string' && NAME.test(v) ? undefined : 'a lowercase SQL name ([a-z_][a-z0-9_]*, at most 63 characters)';
const isPrefix: Check = (v) =>
  typeof v === 'string' && PREFIX.test(v) ? undefined : 'a lowercase prefix ([a-z_][a-z0-9_]*, at most 14 characters)';
const isPath: Check = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'a non-empty path');
const isBool: Check = (v) => (typeof v === 'boolean' ? undefined : 'true or false');
const isConcurrency: Check = (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 256 ? undefined : 'an integer from 1 to 256';
const isRetries: Check = (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 100 ? undefined : 'an integer from 0 to 100';

/** The longest timeout PostgreSQL takes: lock_timeout and statement_timeout are milliseconds in an int4. */
const MAX_TIMEOUT_MS = 2147483647;
const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration's length in milliseconds, or undefined when it is not one. */
function durationMs(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = DURATION.exec(v.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2] ?? 'ms']! : undefined;
}

const isDuration: Check = (v) => {
  const ms = durationMs(v);
  if (ms === undefined) return 'a duration: milliseconds as a number, or text such as "5s", "500ms", "2min"';
  // Less than a millisecond rounds to 0, which turns the limit off.
  if (ms > 0 && ms < 1) return 'a duration of at least 1ms, or 0 for no limit';
  // More than PostgreSQL takes would be refused at the first SET LOCAL, after a change had been made.
  return ms > MAX_TIMEOUT_MS
    ? `a duration PostgreSQL accepts, at most ${MAX_TIMEOUT_MS}ms (about 24 days; 0 turns the limit off)`
    : undefined;
};

/** Schemas that belong to PostgreSQL itself: neither the control nor the shared schema can be one of them. */
const isOwnSchema: Check = (v) => {
  const bad = isName(v);
  if (bad) return bad;
  const name = v as string;
  return name.startsWith('pg_') || name === 'information_schema'
    ? `a schema of your own, not one of PostgreSQL's (pg_*, information_schema)`
    : undefined;
};

const SERVER_NAME = /^[a-z][a-z0-9_]{0,39}$/;
const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

const isServers: Check = (v) => {
  const want = 'an object of server name -> connection URL, e.g. {"eu2": "postgresql://app:${EU2_PASSWORD}@eu2.internal/app"}';
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return want;
  for (const [name, url] of Object.entries(v as Record<string, unknown>)) {
    if (!SERVER_NAME.test(name)) return `${want}; server names are [a-z][a-z0-9_]* (at most 40 characters), got ${JSON.stringify(name)}`;
    if (name === HOME_SERVER) return `${want}; "${HOME_SERVER}" is the home server (the one --database-url names) and cannot be listed`;
    if (typeof url !== 'string' || url.length === 0) return `${want}; "${name}" has no URL`;
  }
  return undefined;
};

/**
 * ${VAR} in a server URL is replaced by the variable's value, so no password need sit in a file:
 * a value that is only ${VAR} takes the variable as the whole URL; inside a URL it is percent-encoded.
 */
function expandServers(servers: Record<string, string>, env: NodeJS.ProcessEnv, source: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, url] of Object.entries(servers)) {
    const whole = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(url);
    out[name] = url.replace(ENV_REFERENCE, (_all, variable: string) => {
      const value = env[variable];
      if (value === undefined)
        throw new InputError('invalid_config', `${source}: "servers.${name}" uses \${${variable}}, which is not set in the environment`);
      // The whole value is a URL as it stands; a part of one (a password) is percent-encoded.
      return whole ? value : encodeURIComponent(value);
    });
    if (!/^postgres(ql)?:\/\//.test(out[name]!))
      throw new InputError('invalid_config', `${source}: "servers.${name}" must be a postgresql:// connection URL`);
  }
  return out;
}

const isCitus: Check = (v) => {
  const want = 'an object such as {"referenceTables": "all"} ("all", "none" or a list of table names of the shared schema)';
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return want;
  for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
    if (key !== 'referenceTables') return `${want}; unknown key ${JSON.stringify(key)}`;
    const ok =
      value === 'all' ||
      value === 'none' ||
      (Array.isArray(value) && value.every((t) => typeof t === 'string' && NAME.test(t)) && new Set(value).size === value.length);
    if (!ok) return `${want}; "referenceTables" got ${JSON.stringify(value)}`;
  }
  return undefined;
};

const CHECKS: Record<(typeof CONFIG_KEYS)[number], Check> = {
  controlSchema: isOwnSchema,
  schemaPrefix: isPrefix,
  sharedSchema: isOwnSchema,
  tenantMigrations: isPath,
  sharedMigrations: isPath,
  ownershipColumn: isName,
  roles: isBool,
  concurrency: isConcurrency,
  lockTimeout: isDuration,
  statementTimeout: isDuration,
  lockRetries: isRetries,
  servers: isServers,
  placement: (v) => (v === 'home' || v === 'fewest-tenants' ? undefined : '"home" or "fewest-tenants"'),
  citus: isCitus,
};

function durationText(v: string | number): string {
  return typeof v === 'number' ? `${v}ms` : v.replace(/\s+/g, '');
}

/**
 * Validates a raw config (file contents merged under flags) and applies defaults.
 * Every problem is collected, then one InputError names them all. Relative
 * migration folders resolve against `baseDir` (the config file's folder).
 */
export function resolveConfig(raw: RawConfig, baseDir: string, source = 'config', env: NodeJS.ProcessEnv = process.env): Config {
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
    servers: expandServers(pick('servers'), env, source),
    placement: pick('placement'),
    citus:
      raw.citus === undefined ? null : { referenceTables: (raw.citus as { referenceTables?: ReferenceTables }).referenceTables ?? 'all' },
  };
  if (config.controlSchema === config.sharedSchema) {
    throw new InputError('invalid_config', `${source}: "controlSchema" and "sharedSchema" must differ`);
  }
  return config;
}
