// Owns the workloads: deterministic keys (16 B), values (100 B or 4 KiB of incompressible
// bytes), the shuffled load order and the random probe sequences every engine is given.

/** A: 100 B values (the small-record case). B: 4 KiB values (the page-sized case). */
export type DatasetId = 'A' | 'B';

export interface DatasetSpec {
  readonly id: DatasetId;
  readonly count: number;
  readonly valueBytes: number;
}

/** Length of every key, in bytes. */
export const KEY_BYTES = 16;
/** Random keys in one probe sequence; the timed loops cycle through it. */
export const PROBE_LENGTH = 1 << 16;
const PROBE_MASK = PROBE_LENGTH - 1;
const VALUE_POOL_BYTES = 1 << 20;

/**
 * The key with numeric id `id`: "key:" and 12 zero-padded digits (16 bytes). Present keys use
 * even ids, absent (miss) keys odd ids, so misses fall between hits in every ordered engine.
 */
export function keyOf(id: number): string {
  return `key:${id.toString().padStart(KEY_BYTES - 4, '0')}`;
}

/** The i-th present key of a dataset (0 ≤ i < count). */
export function hitKey(i: number): string {
  return keyOf(2 * i);
}

/** An absent key lying between present keys i and i+1. */
export function missKey(i: number): string {
  return keyOf(2 * i + 1);
}

/** A seeded 32-bit PRNG (mulberry32): same seed, same sequence, on every thread. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * PROBE_LENGTH keys drawn uniformly from the dataset's present (`hit`) or absent (`miss`) keys.
 * Deterministic in `seed`; threads pass different seeds to avoid probing in lock step.
 */
export function probeKeys(count: number, kind: 'hit' | 'miss', seed: number): string[] {
  const next = prng(seed);
  const make = kind === 'hit' ? hitKey : missKey;
  return Array.from({ length: PROBE_LENGTH }, () => make(next() % count));
}

/** The probe key for iteration i of a timed loop. */
export function probeAt(probe: readonly string[], i: number): string {
  return probe[i & PROBE_MASK]!;
}

/** What a loader needs: keys in load order and the value of the n-th (a Dataset, or a variant). */
export type LoadSource = Pick<Dataset, 'count' | 'keys' | 'value'>;

/** One dataset, materialised once and shared by every engine and scenario. */
export class Dataset {
  /** Keys in load order: a seeded shuffle, so no engine gets sorted inserts. */
  readonly keys: string[];
  private readonly order: Uint32Array;
  private readonly pool: Buffer;

  constructor(readonly spec: DatasetSpec) {
    const next = prng(0x5eed + spec.valueBytes);
    this.order = new Uint32Array(spec.count);
    for (let i = 0; i < spec.count; i++) this.order[i] = i;
    for (let i = spec.count - 1; i > 0; i--) {
      const j = next() % (i + 1);
      const t = this.order[i]!;
      this.order[i] = this.order[j]!;
      this.order[j] = t;
    }
    this.keys = Array.from(this.order, hitKey);
    this.pool = Buffer.allocUnsafe(VALUE_POOL_BYTES + spec.valueBytes);
    for (let at = 0; at + 4 <= this.pool.length; at += 4) this.pool.writeUInt32LE(next(), at);
  }

  get count(): number {
    return this.spec.count;
  }

  /**
   * The value of the n-th key in load order: a view (no copy) of a random window of a 1 MiB
   * pool of random bytes, so values do not compress and two values rarely share bytes.
   */
  value(n: number): Buffer {
    const id = this.order[n]!;
    const at = (Math.imul(id ^ 0x9e3779b9, 0x85ebca6b) >>> 0) % VALUE_POOL_BYTES;
    return this.pool.subarray(at, at + this.spec.valueBytes);
  }
}

/** PROBE_LENGTH random offsets at which `readBytes` fit inside a file of `fileBytes`. */
export function probeOffsets(fileBytes: number, readBytes: number, seed: number): Float64Array {
  const next = prng(seed);
  const span = fileBytes - readBytes;
  // Two draws make a 53-bit fraction, so files beyond 4 GiB are covered evenly too.
  return Float64Array.from({ length: PROBE_LENGTH }, () =>
    Math.floor(((next() * 2 ** 21 + (next() >>> 11)) / 2 ** 53) * span),
  );
}
