// Owns KvdLevel's `clear`: the whole store at once (Store.clear, one atomic batch applied in
// write order), or a range: walk a keys-only scan of a snapshot (the explicit one, or one taken
// when clear is called) in slices and delete each slice in one batch. A slice's batch is
// conditioned on the versions its keys had (Store.batch's ifVersions), and a key written after
// clear was called is left alone: clear never deletes a later write.

import { KvError, type Snapshot, type Store } from '../index.js';
import {
  after,
  boundsOf,
  isUnbounded,
  type LevelBounds,
  type LevelRangeOptions,
  scanOptions,
} from './level-range.js';

/** Keys a range clear deletes per batch. */
const SLICE = 1000;

/**
 * Deletes the keys of `options`' range (reversed and limited as it says: `limit` counts keys
 * from the `reverse` end) that `snapshot` holds, or that the store holds now if `snapshot` is
 * undefined. Call it synchronously when clear is called: the implicit snapshot and the
 * sequence number that tells later writes apart are taken before it first yields.
 */
export async function clearRange(
  store: Store,
  snapshot: Snapshot | undefined,
  options: LevelRangeOptions,
): Promise<void> {
  const limit = options.limit ?? -1;
  let bounds = boundsOf(options);
  if (snapshot === undefined && limit < 0 && isUnbounded(bounds)) {
    await store.clear();
    return;
  }
  const reverse = options.reverse === true;
  const calledAt = store.sequence();
  const view = snapshot ?? store.snapshot();
  try {
    let left = limit < 0 ? Number.POSITIVE_INFINITY : limit;
    while (left > 0) {
      const wanted = Math.min(SLICE, left);
      const keys = sliceOfKeys(view, bounds, reverse, wanted);
      if (keys.length > 0) await deleteUnchanged(store, keys, calledAt);
      if (keys.length < wanted) return;
      left -= keys.length;
      bounds = after(bounds, keys[keys.length - 1]!, reverse);
    }
  } finally {
    if (snapshot === undefined) view.release();
  }
}

/** Up to `count` keys of `bounds` in `view`, in the walk's direction. */
function sliceOfKeys(view: Snapshot, bounds: LevelBounds, reverse: boolean, count: number) {
  const keys: Buffer[] = [];
  for (const entry of view.rangeSync(scanOptions(bounds, reverse, count, false))) {
    keys.push(entry.key);
  }
  return keys;
}

/**
 * Deletes those of `keys` not written after `calledAt`, in one batch that applies only if none
 * of them changed meanwhile; if one did (`KV_CONFLICT`), looks again (the changed key is now
 * newer than `calledAt`, so each retry drops it).
 */
async function deleteUnchanged(store: Store, keys: Buffer[], calledAt: number): Promise<void> {
  for (;;) {
    const versions: [Buffer, number][] = [];
    for (const key of keys) {
      const version = store.version(key);
      if (version !== undefined && version <= calledAt) versions.push([key, version]);
    }
    if (versions.length === 0) return;
    try {
      await store.batch(
        versions.map(([key]) => ({ type: 'delete', key })),
        { ifVersions: versions },
      );
      return;
    } catch (error) {
      if (!(error instanceof KvError && error.code === 'KV_CONFLICT')) throw error;
    }
  }
}
