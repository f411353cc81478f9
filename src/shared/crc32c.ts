// Owns the CRC32C (Castagnoli) checksum used by every on-disk structure. Node 20 has no
// built-in CRC32C. Three implementations, fastest first where each can run:
// - the CPU's crc32 instruction through kvd's addon (file-map.ts; x86-64 with SSE 4.2), from 64
//   bytes on: below that, its call costs more than slicing-by-8 in JS;
// - @node-rs/crc32's native code from 512 bytes on, where kvd's addon is missing;
// - slicing-by-8 tables in plain JS for everything else, and for all inputs where neither
//   native module loads. `KVD_CRC_JS_ONLY=1` keeps everything in JS.
// A point read of a mapped record calls the instruction by map id instead (`crc32cOfMap`), with
// no arguments to convert.
// Measured per call (EPYC VM, bench scenario "breakdown" for the 512-byte switch; a local probe
// for the 64-byte one, 12-05, three rounds): 48 bytes 60–62 ns in JS, 63–87 ns by the
// instruction; 64 bytes 73–74 against 64–65 ns; 148 bytes (a record of a 16-byte key and a
// 100-byte value) 170–232 against 69–70 ns; 4 KiB 4.2 µs in JS, 0.81–0.88 µs by
// @node-rs/crc32, 0.49–0.50 µs by the instruction.

import { createRequire } from 'node:module';
import { type HardwareCrc32c, hardwareCrc32c, type MapCrc32c, mapCrc32c } from './file-map.js';

const POLY = 0x82f63b78; // reflected Castagnoli polynomial

const TABLES: Uint32Array = buildTables();

/** From this many bytes on, the CPU's instruction (through the addon) is faster than JS. */
const HARDWARE_MIN_BYTES = 64;

/** From this many bytes on, @node-rs/crc32 is faster than JS (bench scenario "breakdown"). */
const NATIVE_MIN_BYTES = 512;

const hardware: HardwareCrc32c | undefined =
  process.env.KVD_CRC_JS_ONLY === '1' ? undefined : hardwareCrc32c;

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
  const length = end - start;
  // A range outside `bytes` (which no caller should pass) stays in JS, as it always did.
  if (hardware !== undefined && length >= HARDWARE_MIN_BYTES && start >= 0 && end <= bytes.length) {
    return hardware(bytes, start, end, seed);
  }
  if (nativeCrc32c && length >= NATIVE_MIN_BYTES) {
    return nativeCrc32c(new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start), seed);
  }
  return crc32cJs(bytes, start, end, seed);
}

const byMap: MapCrc32c | undefined = process.env.KVD_CRC_JS_ONLY === '1' ? undefined : mapCrc32c;

/**
 * `crc32c(bytes, start, end)` where `bytes` is the whole of a map this thread made, whose id is
 * `mapId` (`SegmentFds.viewMapId`; -1 for any other array): by the CPU's instruction on the
 * map's own bytes, with no arguments to convert. Any length: such a call costs less than the JS
 * loop for every record (a record's checksum, 148 bytes: 24–33 ns against 82–96 ns with four
 * arguments, EPYC VM, 12-06).
 */
export function crc32cOfMap(mapId: number, bytes: Uint8Array, start: number, end: number): number {
  if (mapId < 0 || byMap === undefined) return crc32c(bytes, start, end);
  const w = byMap.crcWords;
  w[0] = mapId;
  w[1] = start;
  w[2] = end;
  w[3] = 0;
  byMap.crc32cMapped();
  return w[4]!;
}

/** Whether `crc32c` uses the CPU's instruction (a test checks it does wherever it can). */
export const crc32cUsesHardware: boolean = hardware !== undefined;

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
