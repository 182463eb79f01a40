import { expect } from 'vitest';
import type { Violation } from '../../src/index.js';
import { cliOn } from './cli.js';

/** Runs `verify --json` through the built CLI with the given flags, expects exit 1, returns the violations. */
export async function violationsFrom(url: string, args: string[]): Promise<Violation[]> {
  const res = await cliOn(url)(['verify', ...args, '--json']);
  expect(res.code, res.stderr).toBe(1);
  return res.json<{ violations: Violation[] }>().violations;
}
