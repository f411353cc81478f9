// Owns listing keys for an open store: every live key (`Store.keys`, from a point-in-time copy
// of the index's locations read by the reader pool, damaged records left out and logged,
// expired ones handed to the reaper) and one at random (`Store.randomKey`, sampled by the
// writer). Caller's thread.

import { segmentFileName } from '../shared/format.js';
import type { StoreEngine } from './store-engine.js';

/** Every live key, after every write issued before the call (see `Store.keys`). */
export async function listKeys(e: StoreEngine): Promise<Buffer[]> {
  await e.writes.drain();
  // The copied locations must stay readable: compaction retires no segment until unpinned.
  e.index.pinSegments();
  try {
    const { keys, expired, damaged } = await e.reads.keysAt(await e.writer.snapshot());
    for (const key of expired) e.reaper.reap(key);
    for (const d of damaged) {
      const file = segmentFileName(e.index.segmentIdOf(d.handle));
      e.log.warn({ file, offset: d.offset }, 'keys(): left out a damaged record');
    }
    return keys;
  } finally {
    e.index.unpinSegments();
  }
}

/** A live key picked at random, or undefined if there is none (see `Store.randomKey`). */
export async function pickRandomKey(e: StoreEngine): Promise<Buffer | undefined> {
  await e.writes.drain();
  for (let attempt = 0; attempt < 8; attempt++) {
    e.index.pinSegments();
    try {
      const locations = await e.writer.sample(4);
      if (locations.length === 0) return undefined;
      for (let i = 0; i + 2 < locations.length; i += 3) {
        const key = e.localReader.keyAt(locations[i]!, locations[i + 1]!, locations[i + 2]!);
        if (key) return Buffer.from(key.buffer, key.byteOffset, key.length);
      }
    } finally {
      e.index.unpinSegments();
    }
  }
  return undefined; // only expired keys were sampled
}
