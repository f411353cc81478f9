// Owns how KEYS and SCAN walk the keyspace: keys only, in byte order, within a prefix, after a
// key, at most so many (`Store.range`). A walk that meets a damaged record, which `range`
// refuses, finishes from `Store.keys()`, which leaves damaged records out (logged, counted).

import { Buffer } from 'node:buffer';
import { KvError } from '../index.js';
import type { CommandStore } from './command-context.js';

/** Which keys a walk visits. */
export interface KeyWalk {
  /** Only keys that start with these bytes (empty: every key). */
  readonly prefix: Buffer;
  /** Only keys after this one (undefined: from the first). */
  readonly after?: Buffer | undefined;
  /** At most this many keys (undefined: all). */
  readonly limit?: number | undefined;
}

/**
 * Yields the live keys `walk` names, in byte order, read as `Store.range` reads them. Cost: a
 * seek to the walk's start, then a step and an index lookup per key yielded; never a walk of
 * keys outside the prefix, except after a damaged record: the rest of the walk then lists every
 * key (`Store.keys()`) and skips to where it was. Main thread (the store's). Throws what
 * `Store.keys()` throws (`KV_CORRUPTION` for a damaged key run, `KV_CLOSED`, `KV_IO`).
 */
export async function* walkKeys(
  store: Pick<CommandStore, 'range' | 'keys'>,
  walk: KeyWalk,
): AsyncGenerator<Buffer, void, undefined> {
  let last = walk.after;
  let left = walk.limit ?? Number.POSITIVE_INFINITY;
  if (left <= 0) return;
  try {
    const range = store.range({
      ...(walk.prefix.length > 0 ? { prefix: walk.prefix } : {}),
      ...(last !== undefined ? { gt: last } : {}),
      ...(walk.limit !== undefined ? { limit: walk.limit } : {}),
      values: false,
    });
    for await (const { key } of range) {
      last = key;
      left--;
      yield key;
    }
    return;
  } catch (error) {
    if (!(error instanceof KvError && error.code === 'KV_CORRUPTION')) throw error;
  }
  for (const key of await store.keys()) {
    if (left <= 0) return;
    if (!startsWith(key, walk.prefix)) continue;
    if (last !== undefined && Buffer.compare(key, last) <= 0) continue;
    left--;
    yield key;
  }
}

function startsWith(key: Buffer, prefix: Buffer): boolean {
  return (
    key.length >= prefix.length && key.compare(prefix, 0, prefix.length, 0, prefix.length) === 0
  );
}
