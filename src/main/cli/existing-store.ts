// Owns the check the offline tools (`kvd compact`, `kvd repair`, `kvd backup`) make before they
// open a store: the directory must hold one (a segment file), so a mistyped `--dir` is an
// error, not a new empty store reported as compacted, repaired or backed up.

import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { KvError } from '../index.js';

const SEGMENT_FILE = /^\d{6,}\.(log|sst)$/;

/** Throws `KV_INVALID_ARGUMENT` unless `dir` holds a kvd store (a `.log` or `.sst` segment). */
export function checkStoreExists(dir: string): void {
  const absolute = resolve(dir);
  let names: string[];
  try {
    names = readdirSync(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'it does not exist' : `it cannot be read (${code})`;
    throw new KvError('KV_INVALID_ARGUMENT', `no kvd store in ${absolute}: ${why}; check --dir`);
  }
  if (!names.some((name) => SEGMENT_FILE.test(name))) {
    throw new KvError(
      'KV_INVALID_ARGUMENT',
      `no kvd store in ${absolute}: it holds no segment files; check --dir`,
    );
  }
}
