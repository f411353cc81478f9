// Owns the index size hint: on a clean close the writer records how many keys the index held
// (file SIZE-HINT, JSON), and the next open sizes the index for that many keys at once instead
// of growing it step by step while recovery inserts them (each growth rehashes every key).
// Advisory only: a missing, stale or unreadable hint just means growing as usual.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FILE = 'SIZE-HINT';

/** The key count recorded by the last clean close, or 0. Never throws. */
export function readSizeHint(dir: string): number {
  try {
    const parsed = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as { keys?: unknown };
    const keys = parsed.keys;
    return typeof keys === 'number' && Number.isSafeInteger(keys) && keys > 0 ? keys : 0;
  } catch {
    return 0;
  }
}

/** Records `keys` for the next open (temporary file, then rename). Never throws. */
export function writeSizeHint(dir: string, keys: number): void {
  try {
    const tmp = join(dir, `${FILE}.tmp`);
    writeFileSync(tmp, `${JSON.stringify({ keys })}\n`);
    renameSync(tmp, join(dir, FILE));
  } catch {
    // advisory: the next open grows the index instead
  }
}
