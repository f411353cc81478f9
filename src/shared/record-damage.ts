// Owns the errors a read raises about a damaged record, with the file and offset it lies at,
// and counting each in the index's damaged-read counter: what RecordReader and LocatedRecords
// both throw.

import { KvError } from './errors.js';
import type { IndexTable } from './index-table.js';

/** A record whose CRC does not match, in `file` at `offset`. */
export function checksumMismatch(file: string, offset: number): KvError {
  return new KvError('KV_CORRUPTION', `checksum mismatch in ${file} at offset ${offset}`, {
    file,
    offset,
  });
}

/** `error`, if it is damage found in a value (point-value.ts), with the record's place. */
export function withPlace(error: unknown, file: string, offset: number): unknown {
  if (!(error instanceof KvError) || error.code !== 'KV_CORRUPTION') return error;
  return new KvError('KV_CORRUPTION', `${error.message} in ${file} at offset ${offset}`, {
    file,
    offset,
    cause: error,
  });
}

/** Counts `error` in `index`'s damaged-read counter if it is damage; returns it. */
export function countedDamage(index: IndexTable, error: unknown): unknown {
  if (error instanceof KvError && error.code === 'KV_CORRUPTION') index.noteDamagedRead();
  return error;
}
