import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { InputError } from '../errors.js';
import type { GlobalFlags, Io } from './io.js';
import { reportError, runCommand, runOffline, type Registrars, type RunFn, type RunOfflineFn } from './run.js';

/**
 * The command modules, in the order their commands are listed, each with the top-level words it
 * serves. A run loads only the modules of its command word (a command module loads the core it
 * calls, so `tenantctl query` does not load verify, lint or relocation); a word none serves (none,
 * `help`, a typo that commander then names a suggestion for) loads them all.
 */
const COMMAND_MODULES: readonly { words: readonly string[]; load: () => Promise<(program: Command, r: Registrars) => void> }[] = [
  { words: ['tenant'], load: async () => (await import('./commands/tenant.js')).registerTenantCommands },
  { words: ['tenant'], load: async () => (await import('./commands/export-import.js')).registerExportImportCommands },
  { words: ['tenant'], load: async () => (await import('./commands/pool.js')).registerPoolCommands },
  { words: ['migrate'], load: async () => (await import('./commands/migrate.js')).registerMigrateCommands },
  { words: ['migrate'], load: async () => (await import('./commands/migrate-lint.js')).registerMigrateLintCommand },
  { words: ['init', 'exec'], load: async () => (await import('./commands/init-exec.js')).registerOtherCommands },
  { words: ['query'], load: async () => (await import('./commands/query.js')).registerQueryCommand },
  { words: ['copy', 'move'], load: async () => (await import('./commands/copy.js')).registerCopyCommands },
  { words: ['tenant'], load: async () => (await import('./commands/copy.js')).registerCloneCommand },
  { words: ['verify'], load: async () => (await import('./commands/verify.js')).registerVerifyCommands },
];

/** Global options that take a value: the word after them is not the command. */
const VALUE_OPTIONS = new Set(['--config', '--database-url']);

/** The command word of argv (its first argument that is neither a global option nor such an option's value). */
export function commandWord(argv: readonly string[]): string | undefined {
  const args = argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (VALUE_OPTIONS.has(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

async function registerCommands(program: Command, argv: readonly string[], r: Registrars): Promise<void> {
  const word = commandWord(argv);
  const served = COMMAND_MODULES.some((m) => word !== undefined && m.words.includes(word));
  const modules = COMMAND_MODULES.filter((m) => !served || m.words.includes(word!));
  const registers = await Promise.all(modules.map((m) => m.load()));
  for (const register of registers) register(program, r);
}

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
  await registerCommands(program, argv, { run, runOff, io, flagsOf });
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
