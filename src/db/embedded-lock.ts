import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DatabaseError } from '../errors.js';

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holder(lockDir: string): number {
  try {
    return Number(readFileSync(join(lockDir, 'pid'), 'utf8').trim());
  } catch {
    return 0;
  }
}

/**
 * One tenantctl process at a time uses an embedded data folder. The lock is a
 * directory (mkdir is atomic) holding the owner's pid; a lock whose owner is
 * dead (kill -9) is taken over. A live owner makes us wait up to `waitMs`,
 * then fail with exit 3.
 */
export async function acquireEmbeddedLock(baseDir: string, waitMs: number, onWait: (pid: number) => void): Promise<() => void> {
  const lockDir = join(baseDir, 'lock');
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      return () => rmSync(lockDir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = holder(lockDir);
    if (pid === 0) {
      // Being written right now, or left empty by a crash between mkdir and write.
      await sleep(100);
      if (holder(lockDir) === 0) takeOver(lockDir);
      continue;
    }
    if (!alive(pid)) {
      takeOver(lockDir);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new DatabaseError(
        'embedded_busy',
        `the embedded Postgres in ${baseDir} is in use by another tenantctl (pid ${pid}); wait for it to finish, or pass --database-url`,
        { pid },
      );
    }
    if (!told) {
      onWait(pid);
      told = true;
    }
    await sleep(200);
  }
}

function takeOver(lockDir: string): void {
  const aside = `${lockDir}.stale-${process.pid}-${Date.now()}`;
  try {
    renameSync(lockDir, aside);
    rmSync(aside, { recursive: true, force: true });
  } catch {
    // Someone else took it over first; the next mkdir decides.
  }
}
