// Owns the index size hint: on a clean close the writer records how many keys the index held
// (file SIZE-HINT, JSON), and the next open sizes the index for that many keys at once instead
// of growing it step by step while recovery inserts them (each growth rehashes every key).
// Advisory only: a missing, stale or unreadable hint just means growing as usual.

import { Buffer } from 'node:buffer';
import { join } from 'node:path';
import { type FileSystem, writeAll } from './file-system.js';

const FILE = 'SIZE-HINT';

/** The key count recorded by the last clean close, or 0. Never throws. */
export function readSizeHint(files: FileSystem, dir: string): number {
  try {
    const text = files.readFile(join(dir, FILE)).toString('utf8');
    const parsed = JSON.parse(text) as { keys?: unknown };
    const keys = parsed.keys;
    return typeof keys === 'number' && Number.isSafeInteger(keys) && keys > 0 ? keys : 0;
  } catch {
    return 0;
  }
}

/** Records `keys` for the next open (temporary file, then rename). Never throws. */
export function writeSizeHint(files: FileSystem, dir: string, keys: number): void {
  try {
    const tmp = join(dir, `${FILE}.tmp`);
    const fd = files.open(tmp, 'w');
    try {
      writeAll(files, fd, Buffer.from(`${JSON.stringify({ keys })}\n`), 0);
    } finally {
      files.close(fd);
    }
    files.rename(tmp, join(dir, FILE));
  } catch {
    // advisory: the next open grows the index instead
  }
}
