// Owns the ordered keys a range scan needs besides the key runs (key-run-format.ts): every key
// written since the writer last caught up with key runs, and (memtable-fill.ts) the keys of
// segments that have no key run yet. Keys are kept in generations: the one being filled packs
// its keys as bytes (key-arena.ts; adding is a copy), and so do full ones no scan has needed
// yet; a range scan turns each into sorted latin1 strings (one char per byte, so string order
// is byte order) and merges sorted generations of similar size (the logarithmic method), so
// adding costs O(1) and a scan sees O(log n) sorted arrays. A generation is dropped once its
// writes are acknowledged and every log segment they can have landed in is covered by key runs
// (IndexTable.keyRunsThrough): looked at when a generation fills, when a scan starts, and when
// the compactor reports new key runs (`shed`). Caller's thread.

import { KeyArena } from './key-arena.js';

/** Where the keys a write carried may have landed: settles with the active segment id then. */
export interface MemtableTicket {
  /** Call once the writer has answered (success or not). */
  settle(activeSegmentId: number): void;
}

interface Generation {
  /** Its keys while no scan has needed them: unsorted bytes. */
  packed: KeyArena | undefined;
  /** Its keys once sorted (without repeats), as latin1 strings. */
  keys: string[];
  sorted: boolean;
  /** Writes not yet answered; a generation with any is never dropped or merged. */
  pending: number;
  /** Highest active segment id seen when one of its writes was answered (or at its fill). */
  maxTag: number;
}

function newGeneration(): Generation {
  return { packed: new KeyArena(), keys: [], sorted: false, pending: 0, maxTag: 0 };
}

/** Keys a generation holds (repeats counted). */
function sizeOf(g: Generation): number {
  return g.packed ? g.packed.count : g.keys.length;
}

/**
 * Sorts `keys` in byte order and removes repeats, in place. Each key is flattened first: an
 * application's keys are often concatenations (V8 cons strings), which every comparison would
 * otherwise walk through the runtime; reading a character flattens one in place. Sorting 1M
 * such keys in 16 generations took 620–760 ms, flattened 230–280 ms.
 */
function sortUnique(keys: string[]): string[] {
  for (const k of keys) if (k.length > 0) k.charCodeAt(0);
  keys.sort();
  let n = 0;
  for (let i = 0; i < keys.length; i++)
    if (i === 0 || keys[i] !== keys[n - 1]) keys[n++] = keys[i]!;
  keys.length = n;
  return keys;
}

/** Merges two sorted, repeat-free arrays into one. */
function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x < y) out[n++] = a[i++]!;
    else if (y < x) out[n++] = b[j++]!;
    else {
      out[n++] = x;
      i++;
      j++;
    }
  }
  while (i < a.length) out[n++] = a[i++]!;
  while (j < b.length) out[n++] = b[j++]!;
  out.length = n;
  return out;
}

/** Keys, and bytes of keys, a generation takes before a new one starts (and covered ones are dropped). */
const GENERATION_KEYS = 65_536;
const GENERATION_BYTES = 16 * 1024 * 1024;

/** The keys written since key runs last caught up. See the file comment. */
export class KeyMemtable {
  private frozen: Generation[] = [];
  private current = newGeneration();
  /** Whether the keys on disk without a key run were added (memtable-fill.ts, once). */
  filled = false;

  /** `keyRunsThrough`: how far key runs cover the log now (IndexTable.keyRunsThrough). */
  constructor(private readonly keyRunsThrough: () => number) {}

  /**
   * Adds the keys of writes about to be sent (copied: `keys` may be reused); settle the ticket
   * when the writer answers.
   */
  add(keys: KeyArena): MemtableTicket {
    const packed = this.current.packed!;
    if (packed.count >= GENERATION_KEYS || packed.byteLength >= GENERATION_BYTES) {
      // Without scans nothing else would drop covered keys: start a new generation, drop old.
      this.freezeCurrent();
      this.dropCovered(this.keyRunsThrough());
    }
    const generation = this.current;
    generation.packed!.append(keys);
    generation.pending++;
    let settled = false;
    return {
      settle(activeSegmentId: number): void {
        if (settled) return;
        settled = true;
        generation.pending--;
        if (activeSegmentId > generation.maxTag) generation.maxTag = activeSegmentId;
      },
    };
  }

  /** Adds keys already on disk in segments up to `segmentId` that have no key run (a fill). */
  fill(keys: readonly string[], segmentId: number): void {
    if (keys.length === 0) return;
    this.frozen.push({
      packed: undefined,
      keys: sortUnique([...keys]),
      sorted: true,
      pending: 0,
      maxTag: segmentId,
    });
  }

  /**
   * Drops now what key runs cover (after a hint file is written or a merge installed), so an
   * idle store does not keep keys until its next write or scan. The generation being filled is
   * frozen first if none of its writes is in flight.
   */
  shed(): void {
    if (sizeOf(this.current) > 0 && this.current.pending === 0) this.freezeCurrent();
    this.dropCovered(this.keyRunsThrough());
  }

  /** Freezes the generation being filled (its arena trimmed to size) and starts a new one. */
  private freezeCurrent(): void {
    this.current.packed?.trim();
    this.frozen.push(this.current);
    this.current = newGeneration();
  }

  /** Keys held now (repeats across generations counted again). */
  get size(): number {
    return this.frozen.reduce((n, g) => n + sizeOf(g), sizeOf(this.current));
  }

  /**
   * The sorted generations a scan merges, after dropping those covered by key runs. The arrays must not be changed; a later call may return new
   * ones, and earlier ones stay valid for the scans that hold them.
   */
  sortedViews(): readonly (readonly string[])[] {
    if (sizeOf(this.current) > 0) this.freezeCurrent();
    this.dropCovered(this.keyRunsThrough());
    for (const g of this.frozen) {
      if (g.sorted) continue;
      g.keys = sortUnique(g.packed!.toStrings());
      g.packed = undefined;
      g.sorted = true;
    }
    this.mergeSimilar();
    return this.frozen.map((g) => g.keys);
  }

  /** Drops the frozen generations whose writes all landed in segments with key runs. */
  private dropCovered(keyRunsThrough: number): void {
    this.frozen = this.frozen.filter((g) => g.pending > 0 || g.maxTag > keyRunsThrough);
  }

  /**
   * Merges settled neighbours, the newer at least half the older's size, in passes: each pass
   * merges disjoint pairs, so equal generations merge as a balanced tree (16 of them in 4 passes
   * over the keys), never as a chain that copies the growing result again at each step.
   */
  private mergeSimilar(): void {
    let f = this.frozen;
    for (let merged = true; merged; ) {
      merged = false;
      const out: Generation[] = [];
      for (let i = 0; i < f.length; i++) {
        const older = f[i]!;
        const newer = f[i + 1];
        if (newer === undefined || !mergeable(older, newer)) {
          out.push(older);
          continue;
        }
        out.push({
          packed: undefined,
          keys: mergeSorted(older.keys, newer.keys),
          sorted: true,
          pending: 0,
          maxTag: Math.max(older.maxTag, newer.maxTag),
        });
        merged = true;
        i++;
      }
      f = out;
    }
    this.frozen = f;
  }
}

/** Whether two neighbours merge: both settled and sorted, the newer at least half the older. */
function mergeable(older: Generation, newer: Generation): boolean {
  if (older.pending > 0 || newer.pending > 0 || !older.sorted || !newer.sorted) return false;
  return newer.keys.length * 2 >= older.keys.length;
}
