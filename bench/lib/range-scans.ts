// Owns how each engine runs one scan of the range workload: kvd rangeSync / range, lmdb
// getRange / getKeys, classic-level iterator / keys with nextv. Each scan returns the entries it
// got (NaN if a value had the wrong length), or, for the untimed check, the keys in order.

import type { RangeOptions, Store } from '../engines/kvd.js';
import type { Level } from '../engines/level.js';
import type { Lmdb } from '../engines/lmdb.js';
import type { ScanBounds, ScanShape } from './range-workload.js';

/** Value length of every entry scanned (dataset A's). */
const VALUE_BYTES = 100;
/**
 * classic-level: entries per `nextv` call, and the iterator's highWaterMarkBytes (its README:
 * at least size × an entry's bytes, so a call is never cut short; 16 B key + 100 B value).
 */
export const LEVEL_NEXTV = 1000;
const LEVEL_HIGH_WATER_BYTES = LEVEL_NEXTV * 128;

type LmdbRange = NonNullable<Parameters<Lmdb['getRange']>[0]>;

/** 1 per value of the right length; a wrong one poisons the sum, so the count check fails. */
function score(value: Uint8Array): number {
  return value.length === VALUE_BYTES ? 1 : Number.NaN;
}

/** kvd's options: its own `prefix`, or [low, high) with `limit`. */
function kvdOptions(shape: ScanShape, b: ScanBounds): RangeOptions {
  const base = b.prefix !== undefined ? { prefix: b.prefix } : { gte: b.low, lt: b.high };
  return { ...base, ...(shape.prefix ? {} : { limit: shape.keys }), reverse: shape.reverse };
}

/** lmdb's options for [low, high); reversed, from high (excluded) down to low (included). */
function lmdbOptions(shape: ScanShape, b: ScanBounds): LmdbRange {
  const bounds: LmdbRange = shape.reverse
    ? { start: b.high, exclusiveStart: true, end: b.low, inclusiveEnd: true, reverse: true }
    : { start: b.low, end: b.high };
  return shape.prefix ? bounds : { ...bounds, limit: shape.keys };
}

/** classic-level's options for [low, high). */
function levelOptions(shape: ScanShape, b: ScanBounds) {
  return {
    gte: b.low,
    lt: b.high,
    reverse: shape.reverse,
    highWaterMarkBytes: LEVEL_HIGH_WATER_BYTES,
    ...(shape.prefix ? {} : { limit: shape.keys }),
  };
}

/** kvd `rangeSync` (values, or `values: false`), on the caller's thread: a store's or a snapshot's. */
export function kvdScanSync(
  store: Pick<Store, 'rangeSync'>,
  shape: ScanShape,
  b: ScanBounds,
): number {
  const options = kvdOptions(shape, b);
  let n = 0;
  if (shape.values) for (const e of store.rangeSync(options)) n += score(e.value);
  else for (const _ of store.rangeSync({ ...options, values: false })) n++;
  return n;
}

/** kvd `range` (async iterable, read in slices on the caller's thread). */
export async function kvdScan(store: Store, shape: ScanShape, b: ScanBounds): Promise<number> {
  const options = kvdOptions(shape, b);
  let n = 0;
  if (shape.values) for await (const e of store.range(options)) n += score(e.value);
  else for await (const _ of store.range({ ...options, values: false })) n++;
  return n;
}

/** lmdb `getRange` (or `getKeys` for keys only), iterated with for…of. */
export function lmdbScan(db: Lmdb, shape: ScanShape, b: ScanBounds): number {
  const options = lmdbOptions(shape, b);
  let n = 0;
  if (shape.values) for (const e of db.getRange(options)) n += score(e.value);
  else for (const _ of db.getKeys(options)) n++;
  return n;
}

/**
 * classic-level `iterator` (or `keys()` for keys only), drained with `nextv(LEVEL_NEXTV)` until
 * it returns nothing or `limit` entries have come; then closed.
 */
export async function levelScan(db: Level, shape: ScanShape, b: ScanBounds): Promise<number> {
  const options = levelOptions(shape, b);
  const limit = shape.prefix ? Number.POSITIVE_INFINITY : shape.keys;
  let n = 0;
  let entries = 0;
  if (shape.values) {
    const it = db.iterator(options);
    try {
      for (let got = await it.nextv(LEVEL_NEXTV); got.length > 0; ) {
        for (const e of got) n += score(e[1]);
        entries += got.length;
        if (entries >= limit) break;
        got = await it.nextv(LEVEL_NEXTV);
      }
    } finally {
      await it.close();
    }
    return n;
  }
  const it = db.keys(options);
  try {
    for (let got = await it.nextv(LEVEL_NEXTV); got.length > 0; ) {
      n += got.length;
      if (n >= limit) break;
      got = await it.nextv(LEVEL_NEXTV);
    }
  } finally {
    await it.close();
  }
  return n;
}

/** The keys one scan returns on each engine, in order, by the same call (for the untimed check). */
export const scanKeys = {
  kvdSync(store: Store, shape: ScanShape, b: ScanBounds): string[] {
    const options = kvdOptions(shape, b);
    const entries = shape.values
      ? store.rangeSync(options)
      : store.rangeSync({ ...options, values: false });
    return Array.from(entries, (e) => e.key.toString('latin1'));
  },
  async kvd(store: Store, shape: ScanShape, b: ScanBounds): Promise<string[]> {
    const options = kvdOptions(shape, b);
    const entries = shape.values
      ? store.range(options)
      : store.range({ ...options, values: false });
    const keys: string[] = [];
    for await (const e of entries) keys.push(e.key.toString('latin1'));
    return keys;
  },
  lmdb(db: Lmdb, shape: ScanShape, b: ScanBounds): string[] {
    const options = lmdbOptions(shape, b);
    return shape.values
      ? Array.from(db.getRange(options), (e) => e.key)
      : Array.from(db.getKeys(options));
  },
  async level(db: Level, shape: ScanShape, b: ScanBounds): Promise<string[]> {
    const options = levelOptions(shape, b);
    return shape.values
      ? (await db.iterator(options).all()).map((e) => e[0])
      : db.keys(options).all();
  },
};
