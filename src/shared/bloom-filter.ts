// The one definition of a sorted segment's bloom filter block (FORMAT.md, "Filter block"): the
// key hash (two MurmurHash3 x86_32 hashes, one pass), double hashing into the bit array, the
// builder and the probe. The block names its hash and probe count, so a change is detectable.

/** Hash id 1: MurmurHash3 x86_32 of the key's bytes with seeds 0 (h1) and `SEED_2` (h2). */
export const FILTER_HASH_MURMUR3_PAIR = 1;
/** Default filter size per key, in bits (≈0.8% false positives with 7 probes). */
export const DEFAULT_BITS_PER_KEY = 10;
/** Fewest bits a filter has, so that a segment of few keys still gets a useful filter. */
const MIN_BITS = 64;
/** Most bits: positions are computed in u32 arithmetic. */
const MAX_BITS = 0xffff_fff8;
/** Most probes a reader accepts; a block stating more is treated as having no filter. */
const MAX_PROBES = 30;
/** Bytes before the bit array: u8 hash id, u8 probe count. */
const FILTER_HEADER_BYTES = 2;
const SEED_2 = 0x9747b28c;

// The hash pair of the key last hashed; module scratch so that a probe allocates nothing.
let hash1 = 0;
let hash2 = 0;

/** Computes MurmurHash3 x86_32 of `key` with seeds 0 and `SEED_2` into `hash1`, `hash2`. */
function hashPair(key: Uint8Array): void {
  const c1 = 0xcc9e2d51;
  const c2 = 0x1b873593;
  let a = 0;
  let b = SEED_2;
  const n = key.length;
  const blocks = n & ~3;
  let i = 0;
  for (; i < blocks; i += 4) {
    let k = key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    a ^= k;
    a = (a << 13) | (a >>> 19);
    a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    b ^= k;
    b = (b << 13) | (b >>> 19);
    b = (Math.imul(b, 5) + 0xe6546b64) | 0;
  }
  const tail = n & 3;
  if (tail !== 0) {
    let k = key[i]!;
    if (tail > 1) k ^= key[i + 1]! << 8;
    if (tail > 2) k ^= key[i + 2]! << 16;
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    a ^= k;
    b ^= k;
  }
  hash1 = fmix32(a ^ n);
  hash2 = fmix32(b ^ n);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Probes for `bitsPerKey` bits a key: round(bitsPerKey × ln 2), the false-positive optimum. */
export function probesFor(bitsPerKey: number): number {
  return Math.min(MAX_PROBES, Math.max(1, Math.round(bitsPerKey * Math.LN2)));
}

/** Collects key hashes as keys are added and encodes the filter block. */
export class BloomFilterBuilder {
  private hashes = new Uint32Array(2048);
  private count = 0;

  constructor(private readonly bitsPerKey = DEFAULT_BITS_PER_KEY) {}

  /** Adds `key` (only its hashes are kept). */
  add(key: Uint8Array): void {
    if (2 * this.count + 2 > this.hashes.length) {
      const grown = new Uint32Array(this.hashes.length * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    hashPair(key);
    this.hashes[2 * this.count] = hash1;
    this.hashes[2 * this.count + 1] = hash2;
    this.count++;
  }

  /** The raw filter block: u8 hash id, u8 probe count, then the bit array (bit i: byte i>>3, bit i&7). */
  finish(): Uint8Array {
    const wanted = Math.ceil(this.count * this.bitsPerKey);
    const bits = Math.min(MAX_BITS, Math.max(MIN_BITS, Math.ceil(wanted / 8) * 8));
    const probes = probesFor(this.bitsPerKey);
    const out = new Uint8Array(FILTER_HEADER_BYTES + bits / 8);
    out[0] = FILTER_HASH_MURMUR3_PAIR;
    out[1] = probes;
    for (let n = 0; n < this.count; n++) {
      setBits(out, bits, probes, this.hashes[2 * n]!, this.hashes[2 * n + 1]!);
    }
    return out;
  }
}

/** Sets the `probes` bits of one key: positions (h1 + i·h2) mod bits, in u32 arithmetic. */
function setBits(out: Uint8Array, bits: number, probes: number, h1: number, h2: number): void {
  let h = h1;
  for (let i = 0; i < probes; i++) {
    const bit = h % bits;
    out[FILTER_HEADER_BYTES + (bit >>> 3)]! |= 1 << (bit & 7);
    h = (h + h2) >>> 0;
  }
}

/** A decoded filter block. */
export interface BloomFilter {
  /** False only if `key` is certainly not in the segment. */
  mayContain(key: Uint8Array): boolean;
  /** Whether the block's hash and probe count are ones this code knows (else every probe says maybe). */
  readonly usable: boolean;
  /** Bits in the bit array. */
  readonly bits: number;
  readonly probes: number;
}

/**
 * Reads a raw filter block. Returns undefined if it is too short to hold its header. A block
 * of an unknown hash id, or a probe count of 0 or above 30, is a filter of a later version:
 * it is unusable and answers "maybe" for every key (never a false "absent").
 */
export function decodeBloomFilter(raw: Uint8Array): BloomFilter | undefined {
  if (raw.length < FILTER_HEADER_BYTES) return undefined;
  const probes = raw[1]!;
  const bits = (raw.length - FILTER_HEADER_BYTES) * 8;
  const usable =
    raw[0] === FILTER_HASH_MURMUR3_PAIR && probes >= 1 && probes <= MAX_PROBES && bits > 0;
  return {
    usable,
    bits,
    probes,
    mayContain(key: Uint8Array): boolean {
      if (!usable) return true;
      hashPair(key);
      let h = hash1;
      for (let i = 0; i < probes; i++) {
        const bit = h % bits;
        if ((raw[FILTER_HEADER_BYTES + (bit >>> 3)]! & (1 << (bit & 7))) === 0) return false;
        h = (h + hash2) >>> 0;
      }
      return true;
    },
  };
}
