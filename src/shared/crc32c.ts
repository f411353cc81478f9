// Owns the CRC32C (Castagnoli) checksum used by every on-disk structure. Short inputs (most
// records) use slicing-by-8 tables in plain JS, which beats a native call's overhead; long ones
// use @node-rs/crc32's native code, about 5x faster on a 4 KiB value. Node 20 has no built-in
// CRC32C. If the native module cannot load (an unsupported platform), JS does everything.

import { createRequire } from 'node:module';

const POLY = 0x82f63b78; // reflected Castagnoli polynomial

const TABLES: Uint32Array = buildTables();

/** From this many bytes on, the native implementation is faster (bench scenario "breakdown"). */
const NATIVE_MIN_BYTES = 512;

type NativeCrc32c = (input: Uint8Array, initialState?: number) => number;

const nativeCrc32c: NativeCrc32c | undefined = loadNative();

function loadNative(): NativeCrc32c | undefined {
  if (process.env.KVD_CRC_JS_ONLY === '1') return undefined;
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: NativeCrc32c };
    return typeof mod.crc32c === 'function' ? mod.crc32c : undefined;
  } catch {
    return undefined;
  }
}

function buildTables(): Uint32Array {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
}

/**
 * CRC32C of `bytes[start, end)`, continuing from `seed` (0 for a fresh checksum).
 * Pure; any thread may call it. Returns an unsigned 32-bit integer.
 */
export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length, seed = 0): number {
  if (nativeCrc32c && end - start >= NATIVE_MIN_BYTES) {
    return nativeCrc32c(new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start), seed);
  }
  return crc32cJs(bytes, start, end, seed);
}

/** The plain-JS CRC32C (slicing-by-8); same contract as `crc32c`. Exported for tests. */
export function crc32cJs(bytes: Uint8Array, start = 0, end = bytes.length, seed = 0): number {
  const t = TABLES;
  let crc = ~seed >>> 0;
  let i = start;
  // Slicing-by-8: fold eight bytes per step through eight tables.
  for (; i + 8 <= end; i += 8) {
    const a =
      (crc ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>>
      0;
    crc =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + bytes[i + 4]!]! ^
      t[512 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!;
  }
  for (; i < end; i++) crc = t[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}
