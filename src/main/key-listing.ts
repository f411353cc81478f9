// Owns listing keys for an open store: every live key (`Store.keys`, a keys-only range scan,
// damaged records left out and logged), one at random (`Store.randomKey`, sampled by the
// writer), and what range scans read through. Caller's thread.

import { Buffer } from 'node:buffer';
import { fillMemtableOnce } from './memtable-fill.js';
import {
  currentSources,
  type RangeSources,
  resolveRange,
  scanRangeInSlices,
} from './range-scan.js';
import type { StoreEngine } from './store-engine.js';

/**
 * What range scans read through: this thread's key runs and memtable, reads on this thread.
 * With `skipDamaged`, a key whose record is damaged is logged and left out instead of failing
 * the scan (keys()).
 */
export function rangeSources(e: StoreEngine, skipDamaged = false): RangeSources {
  const spare = <T>(read: () => T, absent: T): T => {
    try {
      return read();
    } catch (error) {
      if (!skipDamaged || (error as { code?: unknown }).code !== 'KV_CORRUPTION') throw error;
      const { file, offset } = error as { file?: string; offset?: number };
      e.log.warn({ err: error, file, offset }, 'keys(): left out a damaged record');
      return absent;
    }
  };
  return {
    acquire: () => {
      fillMemtableOnce(e);
      return currentSources(e.keyRuns, e.memtable);
    },
    get: (key) => spare(() => e.reads.getSync(key), undefined),
    has: (key) => spare(() => e.localReader.has(key), false),
    // No `isVersion`: data segments are walked by their key runs, each key read alone.
  };
}

/** Every live key in byte order, after every write issued before the call (see `Store.keys`). */
export async function listKeys(e: StoreEngine): Promise<Buffer[]> {
  await e.writes.drain();
  const keys: Buffer[] = [];
  const range = resolveRange({ values: false });
  for await (const entry of scanRangeInSlices(rangeSources(e, true), range)) keys.push(entry.key);
  return keys;
}

/** A live key picked at random, or undefined if there is none (see `Store.randomKey`). */
export async function pickRandomKey(e: StoreEngine): Promise<Buffer | undefined> {
  await e.writes.drain();
  for (let attempt = 0; attempt < 8; attempt++) {
    e.index.segments.pin();
    try {
      const locations = await e.writer.sample(4);
      if (locations.length === 0) return undefined;
      for (let i = 0; i + 2 < locations.length; i += 3) {
        const key = e.localReader.located.keyAt(
          locations[i]!,
          locations[i + 1]!,
          locations[i + 2]!,
        );
        if (key) return Buffer.from(key.buffer, key.byteOffset, key.length);
      }
    } finally {
      e.index.segments.unpin();
    }
  }
  return undefined; // only expired keys were sampled
}
