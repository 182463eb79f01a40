import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { resolveConfig } from './resolve.js';
import type { Config, RawConfig } from './types.js';

export const CONFIG_FILE = 'tenantctl.config.json';

export interface LoadConfigOptions {
  /** Folder to look in for tenantctl.config.json when no file is named. */
  cwd: string;
  /** An explicit --config FILE: it must exist. */
  file?: string;
  /** Values from flags; they beat the file. */
  overrides?: RawConfig;
}

/** Reads the config file (if any), lays flags over it, validates, applies defaults. */
export function loadConfig(options: LoadConfigOptions): Config {
  const path = options.file ? resolve(options.cwd, options.file) : resolve(options.cwd, CONFIG_FILE);
  let raw: RawConfig = {};
  if (existsSync(path)) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new InputError('invalid_config', `${path}: cannot read it (${(err as Error).message})`);
    }
    try {
      raw = JSON.parse(text) as RawConfig;
    } catch (err) {
      throw new InputError('invalid_config', `${path}: not valid JSON (${(err as Error).message})`);
    }
    // Validate the file alone first, so a bad key is blamed on the file.
    resolveConfig(raw, dirname(path), path);
  } else if (options.file) {
    throw new InputError('config_not_found', `config file ${path} does not exist; check --config`);
  }
  const merged = { ...raw, ...definedOnly(options.overrides ?? {}) };
  return resolveConfig(merged, existsSync(path) ? dirname(path) : options.cwd, existsSync(path) ? path : 'config');
}

function definedOnly(o: RawConfig): RawConfig {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as RawConfig;
}
