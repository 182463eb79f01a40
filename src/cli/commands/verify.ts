import type { Command } from 'commander';
import type { RunFn as Run } from '../run.js';

/** verify (issue 5). */
export function registerVerifyCommands(_program: Command, _run: Run): void {}
