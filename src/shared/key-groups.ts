// Owns how a batch of reads hashes its keys a group ahead of their lookups (a RecordReader's
// `hashAhead`), so that the cache misses of a group's index slots overlap: the group's size and
// the loop every batched read (getMany, has, one turn's gets, a reader task) runs its keys in.
// The writer publishes an append's records in groups of the same size (IndexPublisher).

import type { KeyInput } from './key-bytes.js';

/**
 * Keys hashed ahead of their lookups by `hashAhead`. A hit is a chain of dependent cache misses
 * (the key string, the index slot, the record); touching a group's keys, then their slots,
 * before any lookup lets those misses overlap across the group. 8–32 measured alike (12-05,
 * 1M keys).
 */
export const KEY_GROUP = 16;

/** What can hash keys a group ahead: a RecordReader, or the caller's view of one. */
export interface HashesAhead {
  /** Hashes `keys[from, from + KEY_GROUP)`, each kept by its place in the group (`i - from`). */
  hashAhead(keys: readonly KeyInput[], from: number): void;
}

/**
 * Calls `visit(i, ahead)` for each of `keys` in order, with the key hashed a group ahead by
 * `reader` (see `KEY_GROUP`) and kept at place `ahead` of the group: pass it to the reader's
 * `get`, `has` or `read` of `keys[i]`. `visit` must not start another batch on the same reader.
 */
export function eachHashedAhead(
  reader: HashesAhead,
  keys: readonly KeyInput[],
  visit: (i: number, ahead: number) => void,
): void {
  for (let from = 0; from < keys.length; from += KEY_GROUP) {
    reader.hashAhead(keys, from);
    const to = Math.min(keys.length, from + KEY_GROUP);
    for (let i = from; i < to; i++) visit(i, i - from);
  }
}
