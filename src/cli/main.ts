import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { InputError } from '../index.js';
import { registerCopyCommands } from './commands/copy.js';
import { registerExportImportCommands } from './commands/export-import.js';
import { registerMigrateCommands } from './commands/migrate.js';
import { registerMigrateLintCommand } from './commands/migrate-lint.js';
import { registerOtherCommands } from './commands/init-exec.js';
import { registerQueryCommand } from './commands/query.js';
import { registerTenantCommands } from './commands/tenant.js';
import { registerPoolCommands } from './commands/pool.js';
import { registerVerifyCommands } from './commands/verify.js';
import type { GlobalFlags, Io } from './io.js';
import { reportError, runCommand, runOffline, type RunFn, type RunOfflineFn } from './run.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function defaultIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** Parses argv, runs one command, and returns the exit code (the caller sets process.exitCode). */
export async function main(argv: string[], io: Io = defaultIo()): Promise<number> {
  let exitCode = 0;
  const program = new Command('tenantctl');
  const flagsOf = (cmd: Command): GlobalFlags => cmd.optsWithGlobals() as GlobalFlags;
  program
    .description('PostgreSQL schema-per-tenant multi-tenancy: create, migrate, move rows and verify isolation')
    .version(version(), '--version', 'print the version')
    .option('--json', 'one JSON document on stdout')
    .option('--quiet', 'print only errors')
    .option('--verbose', 'more detail on stderr, stack traces on errors')
    .option('--config <file>', 'config file (default: ./tenantctl.config.json)')
    .option('--database-url <url>', 'PostgreSQL connection string (else DATABASE_URL, PG*, or the embedded Postgres)')
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      // Help shown because a command is missing goes to stderr; error messages are ours (reportError).
      writeErr: (s) => io.stderr.write(s),
      outputError: () => undefined,
    });
  const run: RunFn = async (cmd, body, options) => {
    exitCode = await runCommand(io, flagsOf(cmd), body, options);
  };
  const runOff: RunOfflineFn = async (cmd, body, options) => {
    exitCode = await runOffline(io, flagsOf(cmd), body, options);
  };
  registerTenantCommands(program, run, io, flagsOf);
  registerExportImportCommands(program, run);
  registerPoolCommands(program, run);
  registerMigrateCommands(program, run, runOff);
  registerMigrateLintCommand(program, run, runOff, io);
  registerOtherCommands(program, run);
  registerQueryCommand(program, run);
  registerCopyCommands(program, run);
  registerVerifyCommands(program, run);
  for (const cmd of allCommands(program)) {
    cmd
      .exitOverride()
      .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s), outputError: () => undefined });
  }
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      if (err.code === 'commander.help') {
        // No command given: the help went to stderr; that is a usage error.
        if (err.exitCode === 0) return 0;
        return reportError(io, { json }, new InputError('usage', 'no command given; see tenantctl --help'));
      }
      // One line, keeping commander's "(Did you mean --concurrency?)" that follows on the next line.
      const message = err.message
        .replace(/^error: /, '')
        .replace(/\s*\n\s*/g, ' ')
        .trim();
      return reportError(io, { json }, new InputError('usage', `${message}; see tenantctl --help`));
    }
    return reportError(io, { json }, err);
  }
  return exitCode;
}

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}
