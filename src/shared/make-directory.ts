// Owns creating a directory and its missing parents. Node's own `mkdir(path, { recursive: true
// })` never returns when the kernel answers ENOENT for a directory whose parent exists (as in
// /proc, or a file system that refuses the name that way): it retries the parent forever. This
// walks up once and down once, and throws whatever the last mkdir says.

import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Creates `path` and any missing parent directories (nothing if it is a directory already).
 * Throws the file system's error (`ENOENT`, `EACCES`, `ENOTDIR`, `EEXIST` for a file in the
 * way, …) as node:fs does. Any thread.
 */
export function makeDirectorySync(path: string): void {
  const absolute = resolve(path);
  try {
    mkdirSync(absolute);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && isDirectory(absolute)) return;
    const parent = dirname(absolute);
    if (code !== 'ENOENT' || parent === absolute) throw error;
    makeDirectorySync(parent);
  }
  // The parent exists now; a second ENOENT here is the answer, not a missing parent.
  try {
    mkdirSync(absolute);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !isDirectory(absolute)) throw error;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
