import type { Command } from 'commander';
import type { RunFn as Run } from '../run.js';

/** copy, move and tenant clone (issue 4). */
export function registerCopyCommands(_program: Command, _run: Run): void {}
