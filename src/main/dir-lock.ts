// Owns the store directory's lock: one live process at a time. The exclusion itself is a
// Linux abstract-namespace Unix socket named after the directory's real path: the kernel
// releases it when the process dies, however it dies, so a lock left by `kill -9` never blocks
// the next open. The LOCK file beside the data records who holds it, for humans.

import { createHash } from 'node:crypto';
import { realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { KvError } from '../shared/errors.js';

/** A held directory lock; `release()` frees it. */
export interface DirLock {
  release(): Promise<void>;
}

/** Acquires the lock on `dir` (which must exist). Throws `KV_LOCKED` if another holder is live. */
export async function lockDirectory(dir: string): Promise<DirLock> {
  const real = realpathSync(dir);
  const name = `\0kvd-lock-${createHash('sha256').update(real).digest('hex').slice(0, 40)}`;
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new KvError(
            'KV_LOCKED',
            `${real} is already open in another live store (see ${join(real, 'LOCK')})`,
          ),
        );
      } else {
        reject(new KvError('KV_IO', `cannot lock ${real}: ${error.message}`));
      }
    });
    server.listen(name, () => resolve());
  });
  server.unref();
  const lockFile = join(real, 'LOCK');
  writeFileSync(
    lockFile,
    `${JSON.stringify({ pid: process.pid, since: new Date().toISOString() })}\n`,
  );
  return {
    async release(): Promise<void> {
      rmSync(lockFile, { force: true });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
