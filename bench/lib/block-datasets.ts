// Owns the raw data blocks the compression evaluation measures: ~4 KiB sorted-segment blocks laid
// out as src/shared/sorted-block.ts lays them out (flag byte, varint shared/unshared/value
// lengths and seq delta, key suffix, value; restart points; u64 base seq, offsets, count), filled
// from seeded generators so every run sees the same bytes.

import { prng } from '../../test/fixtures/prng.js';

/** Raw bytes at which a data block is sealed, as the sorted-segment writer's default. */
export const BLOCK_BYTES = 4096;
/** Entries between restart points, as sorted-block.ts. */
const RESTART_INTERVAL = 16;

interface Entry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/** Encodes entries into blocks of ≥ BLOCK_BYTES: flags, varint lengths, shared prefixes, seqs. */
function buildBlocks(next: (i: number) => Entry, count: number): Uint8Array[] {
  const blocks: Uint8Array[] = [];
  let i = 0;
  while (blocks.length < count) {
    const out: number[] = [];
    const restarts: number[] = [];
    let previous: Uint8Array = new Uint8Array(0);
    const first = i;
    for (let n = 0; out.length + 12 + 4 * restarts.length < BLOCK_BYTES; n++, i++) {
      const { key, value } = next(i);
      let shared = 0;
      if (n % RESTART_INTERVAL === 0) restarts.push(out.length);
      else while (shared < key.length && key[shared] === previous[shared]) shared++;
      out.push(0);
      for (const v of [shared, key.length - shared, value.length, n]) pushVarint(out, v);
      out.push(...key.subarray(shared), ...value);
      previous = key;
    }
    const tail = new DataView(new ArrayBuffer(12 + 4 * restarts.length));
    tail.setUint32(0, first, true); // base seq (the block's first entry's), low word
    for (const [k, r] of restarts.entries()) tail.setUint32(8 + 4 * k, r, true);
    tail.setUint32(tail.byteLength - 4, restarts.length, true);
    blocks.push(Uint8Array.from([...out, ...new Uint8Array(tail.buffer)]));
  }
  return blocks;
}

function pushVarint(out: number[], v: number): void {
  for (; v >= 0x80; v >>>= 7) out.push((v & 0x7f) | 0x80);
  out.push(v);
}

const text = new TextEncoder();
const key = (prefix: string, i: number) => text.encode(`${prefix}:${String(i).padStart(6, '0')}`);

/** (a) 100-byte values of random bytes under keys `key:000123`. */
export function sstBlocks(count: number): Uint8Array[] {
  const rand = prng(1);
  return buildBlocks((i) => {
    const value = new Uint8Array(100);
    for (let b = 0; b < value.length; b++) value[b] = (rand() * 256) | 0;
    return { key: key('key', i), value };
  }, count);
}

const WORDS =
  'the of and to in is was for on that with as by at from his her they were this which are be has have had not but one all an their would there been who when more will about can time some other into only than also after them first new most over its'.split(
    ' ',
  );
const CITIES = ['Lisbon', 'Oslo', 'Kyoto', 'Austin', 'Lagos', 'Quito', 'Perth', 'Gdansk'];
const ACTIONS = ['login', 'logout', 'view', 'purchase', 'update', 'share'];

/**
 * JSON document `i` of ~1 KiB (a user record with free text and a short history), its fields
 * drawn from `rand`: dataset (b) here, and the compressible values of the compression-space
 * scenario.
 */
export function jsonDocument(rand: () => number, i: number): Uint8Array {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const int = (n: number) => Math.floor(rand() * n);
  const doc = {
    id: i,
    user: `user_${int(100000)}`,
    email: `user_${int(100000)}@example.com`,
    created: new Date(1.7e12 + int(3e10)).toISOString(),
    active: rand() < 0.7,
    score: Math.round(rand() * 10000) / 100,
    tags: Array.from({ length: 1 + int(4) }, () => pick(WORDS)),
    address: {
      street: `${1 + int(999)} ${pick(WORDS)} street`,
      city: pick(CITIES),
      zip: `${int(99999)}`,
    },
    history: Array.from({ length: 3 }, () => ({
      ts: 1.7e12 + int(3e10),
      action: pick(ACTIONS),
      ip: `10.${int(256)}.${int(256)}.${int(256)}`,
    })),
    bio: '',
  };
  const words: string[] = [];
  while (JSON.stringify(doc).length + words.join(' ').length < 1024) words.push(pick(WORDS));
  doc.bio = words.join(' ');
  return text.encode(JSON.stringify(doc));
}

/** (b) JSON documents of ~1 KiB (`jsonDocument`). */
export function jsonBlocks(count: number): Uint8Array[] {
  const rand = prng(2);
  return buildBlocks((i) => ({ key: key('doc', i), value: jsonDocument(rand, i) }), count);
}
