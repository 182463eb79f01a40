import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbedded, type EmbeddedServer } from '../../src/db/embedded.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    serverKind: string;
  }
}

let server: EmbeddedServer | undefined;
let dir: string | undefined;

/**
 * The server the tests use: DATABASE_URL when set (each test file then makes its
 * own database on that server), otherwise an embedded Postgres started once for
 * the whole run in a scratch folder.
 */
export async function setup(project: TestProject): Promise<void> {
  if (process.env.DATABASE_URL) {
    project.provide('adminUrl', process.env.DATABASE_URL);
    project.provide('serverKind', 'DATABASE_URL');
    return;
  }
  dir = mkdtempSync(join(tmpdir(), 'tenantctl-test-'));
  chmodSync(dir, 0o755);
  server = await startEmbedded({ baseDir: dir });
  project.provide('adminUrl', server.url);
  project.provide('serverKind', 'embedded');
}

export async function teardown(): Promise<void> {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
