import chalk, { Chalk } from 'chalk';

/** Where the CLI writes: results to stdout, people's text to stderr. */
export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface GlobalFlags {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  config?: string;
  databaseUrl?: string;
}

/** Colour only on a terminal; NO_COLOR and FORCE_COLOR win. */
export function colours(io: Io): InstanceType<typeof Chalk> {
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return new Chalk({ level: 0 });
  if (io.env.FORCE_COLOR !== undefined) return new Chalk({ level: io.env.FORCE_COLOR === '0' ? 0 : 1 });
  return new Chalk({ level: io.stdout.isTTY ? chalk.level || 1 : 0 });
}

export function line(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(`${text}\n`);
}
