import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbedded, type EmbeddedServer } from '../../src/db/embedded.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    serverKind: string;
    /** A second server, for the fleet over several servers: the machine's PostgreSQL beside the embedded one, else a second embedded one. */
    secondAdminUrl: string;
  }
}

let server: EmbeddedServer | undefined;
let second: EmbeddedServer | undefined;
let dir: string | undefined;

/** The machine's PostgreSQL 15, which every machine and CI run here has. */
const MACHINE_POSTGRES = 'postgresql://postgres@127.0.0.1:5432/postgres';

/**
 * The server the tests use: DATABASE_URL when set (each test file then makes its
 * own database on that server), otherwise an embedded Postgres started once for
 * the whole run in a scratch folder.
 */
export async function setup(project: TestProject): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'tenantctl-test-'));
  chmodSync(dir, 0o755);
  if (process.env.DATABASE_URL) {
    project.provide('adminUrl', process.env.DATABASE_URL);
    project.provide('serverKind', 'DATABASE_URL');
    // TENANTCTL_SECOND_URL names the second server; else an embedded one is started beside DATABASE_URL's.
    if (process.env.TENANTCTL_SECOND_URL) project.provide('secondAdminUrl', process.env.TENANTCTL_SECOND_URL);
    else {
      second = await startEmbedded({ baseDir: join(dir, 'second') });
      project.provide('secondAdminUrl', second.url);
    }
    return;
  }
  server = await startEmbedded({ baseDir: dir });
  project.provide('adminUrl', server.url);
  project.provide('serverKind', 'embedded');
  if (process.env.TENANTCTL_SECOND_URL) project.provide('secondAdminUrl', process.env.TENANTCTL_SECOND_URL);
  else if (await reachable(MACHINE_POSTGRES)) project.provide('secondAdminUrl', MACHINE_POSTGRES);
  else {
    second = await startEmbedded({ baseDir: join(dir, 'second') });
    project.provide('secondAdminUrl', second.url);
  }
}

/** Whether a server answers (a machine without a PostgreSQL of its own gets a second embedded one instead). */
async function reachable(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function teardown(): Promise<void> {
  await server?.stop();
  await second?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
