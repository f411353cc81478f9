// Owns the codecs behind sorted-segment block compression ('none' | 'lz4' | 'zstd'), injected into
// the sorted-segment codec (sorted-format.ts): the native bindings (lz4-napi, zstd-napi), each
// loaded by each thread on first use, and typed errors for a missing binding and for a payload
// that does not decompress. ARCHITECTURE.md, "Block compression: choice", has the measurements.

import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';
import type * as Lz4Napi from 'lz4-napi';
import type * as ZstdBinding from 'zstd-napi/binding.js';
import { KvError } from './errors.js';
import {
  type BlockCompressor,
  type BlockDecompressor,
  COMPRESSION_LZ4,
  COMPRESSION_NONE,
  COMPRESSION_ZSTD,
} from './sorted-format.js';

/** How a store compresses the blocks of the sorted segments it writes (store option, `kvd serve` flag). */
export type Compression = 'none' | 'lz4' | 'zstd';

/** Every `Compression`, in the order help text lists them. */
export const COMPRESSIONS: readonly Compression[] = ['none', 'lz4', 'zstd'];

/**
 * The compression a store uses when none is chosen: none. A point read decompresses a whole
 * block and kvd keeps no decompressed blocks, so lz4 would add ~3 µs and zstd ~7.5 µs to every
 * read of a compressed 4 KiB block, 3 to 8 times a whole `getSync` today (ARCHITECTURE.md,
 * "Block compression: choice").
 */
export const DEFAULT_COMPRESSION: Compression = 'none';

/** zstd's level when none is given: 3, zstd's own (level 1 measured no faster to decompress). */
export const DEFAULT_ZSTD_LEVEL = 3;
/** The lowest level `compressorFor('zstd', level)` accepts (zstd's negative "fast" levels are lz4's niche). */
export const MIN_ZSTD_LEVEL = 1;
/** The highest level `compressorFor('zstd', level)` accepts: zstd's maximum. */
export const MAX_ZSTD_LEVEL = 22;

/**
 * A block is stored compressed only when that saves at least 1/8 of it (LevelDB's rule): a read
 * pays the whole decompression for a saving of a few bytes otherwise.
 */
const MIN_SAVING_SHIFT = 3;
/** The largest raw block length a stored block may claim (the codec stores it as a varint32). */
const MAX_RAW_LENGTH = 0xffff_ffff;
/**
 * lz4-napi writes a u32 little-endian raw length before the LZ4 block. kvd stores it as is: 4
 * bytes a block cost less than stripping it and building it again for every read (~1.5 µs).
 */
const LZ4_SIZE_PREFIX_BYTES = 4;
/**
 * LZ4 expands at most ~255 to 1 (a match's length grows 255 bytes per stored byte), so a larger
 * claimed raw length is corrupt, refused before the decoder allocates it.
 */
const LZ4_MAX_EXPANSION = 255;

/**
 * `compression` cannot be used on this machine: its npm package (`packageName`) did not load,
 * usually because it is not installed or has no build for this platform. Code
 * `KV_INVALID_ARGUMENT`, as for any option the store cannot honour; `cause` is the loader's error.
 */
export class CompressionUnavailableError extends KvError {
  constructor(
    /** The compression that needs the package. */
    readonly compression: Exclude<Compression, 'none'>,
    /** The npm package that failed to load. */
    readonly packageName: string,
    cause: unknown,
  ) {
    super(
      'KV_INVALID_ARGUMENT',
      `compression '${compression}' needs the npm package ${packageName}, which failed to load ` +
        `(${cause instanceof Error ? cause.message : String(cause)}): install it, or choose ` +
        `another compression`,
      { cause },
    );
  }
}

/**
 * A compressor for `compression`, loading its binding now so that a missing one fails here (when
 * a store opens) rather than at its first merge. `level` applies to zstd only
 * (`MIN_ZSTD_LEVEL`..`MAX_ZSTD_LEVEL`, default `DEFAULT_ZSTD_LEVEL`). Any thread may call it;
 * the compressor belongs to the calling thread. Its `compress` is synchronous, never throws and
 * never keeps `raw`; it returns an array the caller owns (lz4: the u32 little-endian raw length,
 * then the LZ4 block; zstd: one frame), or undefined unless that saves at least 1/8 of `raw`
 * ('none': always undefined), so the caller stores the block raw.
 *
 * @throws KvError `KV_INVALID_ARGUMENT` for an unknown compression or a bad level, and
 *   `CompressionUnavailableError` (also `KV_INVALID_ARGUMENT`) when the binding does not load.
 */
export function compressorFor(compression: Compression, level?: number): BlockCompressor {
  if (!COMPRESSIONS.includes(compression)) {
    throw new KvError(
      'KV_INVALID_ARGUMENT',
      `compression must be one of ${COMPRESSIONS.join(', ')}; got ${String(compression)}`,
    );
  }
  if (level !== undefined && compression !== 'zstd') {
    throw new KvError('KV_INVALID_ARGUMENT', `compression '${compression}' takes no level`);
  }
  if (compression === 'none') return NO_COMPRESSION;
  if (compression === 'lz4') {
    const lz4 = loadLz4();
    return { type: COMPRESSION_LZ4, compress: (raw) => compressLz4(lz4, raw) };
  }
  const zstdLevel = level ?? DEFAULT_ZSTD_LEVEL;
  if (!Number.isInteger(zstdLevel) || zstdLevel < MIN_ZSTD_LEVEL || zstdLevel > MAX_ZSTD_LEVEL) {
    throw new KvError(
      'KV_INVALID_ARGUMENT',
      `zstd level must be an integer from ${MIN_ZSTD_LEVEL} to ${MAX_ZSTD_LEVEL}; got ${level}`,
    );
  }
  const zstd = loadZstd();
  return { type: COMPRESSION_ZSTD, compress: (raw) => compressZstd(zstd, raw, zstdLevel) };
}

/**
 * The `rawLength` raw bytes of a block stored under trailer type `type` as `bytes` (whose CRC
 * the caller has checked). Synchronous; any thread may call it (each thread loads the binding
 * and keeps one decompression context). Returns a new plain Uint8Array the caller owns, except
 * for `COMPRESSION_NONE`, which returns `bytes` itself.
 *
 * @throws KvError `KV_CORRUPTION` when `type` is unknown, or `bytes` do not decode to exactly
 *   `rawLength` bytes (never a shorter or longer result); `CompressionUnavailableError`
 *   (`KV_INVALID_ARGUMENT`) when the type's binding does not load.
 */
export function decompressBlock(type: number, bytes: Uint8Array, rawLength: number): Uint8Array {
  if (!Number.isInteger(rawLength) || rawLength < 0 || rawLength > MAX_RAW_LENGTH) {
    throw corrupt(type, bytes, rawLength, 'the raw length is out of range');
  }
  switch (type) {
    case COMPRESSION_NONE:
      if (bytes.length !== rawLength) throw corrupt(type, bytes, rawLength, 'the lengths differ');
      return bytes;
    case COMPRESSION_LZ4:
      return decompressLz4(loadLz4(), bytes, rawLength);
    case COMPRESSION_ZSTD:
      return decompressZstd(loadZstd(), bytes, rawLength);
    default:
      throw corrupt(type, bytes, rawLength, 'unknown compression type');
  }
}

/**
 * The decompressor a sorted-segment reader takes (`openSortedSegment`'s `decompressor`): every
 * type through `decompressBlock`, so a store reads the blocks of any compression whatever its
 * own `compression` option says.
 */
export const blockDecompressor: BlockDecompressor = {
  decompress: (type, bytes, rawLength) => decompressBlock(type, bytes, rawLength),
};

const NO_COMPRESSION: BlockCompressor = { type: COMPRESSION_NONE, compress: () => undefined };

// --- LZ4 (lz4-napi: lz4_flex's safe decoder, bounds-checked) ---

type Lz4Binding = typeof Lz4Napi;

function compressLz4(lz4: Lz4Binding, raw: Uint8Array): Uint8Array | undefined {
  const framed = lz4.compressSync(asBuffer(raw));
  return worthStoring(framed.length, raw.length) ? framed : undefined;
}

function decompressLz4(lz4: Lz4Binding, bytes: Uint8Array, rawLength: number): Uint8Array {
  // The prefix must state the caller's rawLength, so the decoder never allocates what corrupt
  // bytes claim; an LZ4 block cannot expand past LZ4_MAX_EXPANSION either.
  if (bytes.length < LZ4_SIZE_PREFIX_BYTES) {
    throw corrupt(COMPRESSION_LZ4, bytes, rawLength, 'it is shorter than its length prefix');
  }
  const prefix = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
  if (prefix !== rawLength) {
    throw corrupt(COMPRESSION_LZ4, bytes, rawLength, `its length prefix says ${prefix}`);
  }
  if (rawLength > (bytes.length - LZ4_SIZE_PREFIX_BYTES) * LZ4_MAX_EXPANSION) {
    throw corrupt(COMPRESSION_LZ4, bytes, rawLength, 'no LZ4 block expands that far');
  }
  let raw: Buffer;
  try {
    raw = lz4.uncompressSync(bytes);
  } catch (error) {
    throw corrupt(COMPRESSION_LZ4, bytes, rawLength, 'the LZ4 decoder refused it', error);
  }
  if (raw.length !== rawLength) {
    throw corrupt(COMPRESSION_LZ4, bytes, rawLength, `it decoded to ${raw.length} bytes`);
  }
  // A plain Uint8Array over the Buffer's memory, so every codec returns the same type.
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
}

// --- Zstandard (zstd-napi's low-level binding: one context per thread, caller-sized output) ---

type ZstdModule = typeof ZstdBinding;

/** The binding and this thread's contexts (created with it, reused by every call). */
interface Zstd {
  readonly binding: ZstdModule;
  readonly cctx: ZstdBinding.CCtx;
  readonly dctx: ZstdBinding.DCtx;
}

function compressZstd(zstd: Zstd, raw: Uint8Array, level: number): Uint8Array | undefined {
  const out = new Uint8Array(zstd.binding.compressBound(raw.length));
  const n = zstd.cctx.compress(out, raw, level);
  return worthStoring(n, raw.length) ? out.subarray(0, n) : undefined;
}

function decompressZstd(zstd: Zstd, bytes: Uint8Array, rawLength: number): Uint8Array {
  // The output is sized from rawLength, so a frame header claiming more fails instead of
  // allocating what it claims.
  let raw: Uint8Array;
  let n: number;
  try {
    raw = new Uint8Array(rawLength);
  } catch (error) {
    throw corrupt(COMPRESSION_ZSTD, bytes, rawLength, 'the raw length cannot be allocated', error);
  }
  try {
    n = zstd.dctx.decompress(raw, bytes);
  } catch (error) {
    throw corrupt(COMPRESSION_ZSTD, bytes, rawLength, 'the zstd decoder refused it', error);
  }
  if (n !== rawLength)
    throw corrupt(COMPRESSION_ZSTD, bytes, rawLength, `it decoded to ${n} bytes`);
  return raw;
}

// --- Lazy loading: a binding is required the first time this thread needs it, never on import ---

let lz4Binding: Lz4Binding | undefined;
let zstdState: Zstd | undefined;

function loadLz4(): Lz4Binding {
  lz4Binding ??= load<Lz4Binding>('lz4', 'lz4-napi');
  return lz4Binding;
}

function loadZstd(): Zstd {
  if (zstdState === undefined) {
    const binding = load<ZstdModule>('zstd', 'zstd-napi/binding.js');
    zstdState = { binding, cctx: new binding.CCtx(), dctx: new binding.DCtx() };
  }
  return zstdState;
}

function load<T>(compression: Exclude<Compression, 'none'>, specifier: string): T {
  try {
    return createRequire(import.meta.url)(specifier) as T;
  } catch (error) {
    throw new CompressionUnavailableError(compression, specifier.split('/')[0]!, error);
  }
}

/** Whether `packed` bytes save enough of `raw` to be stored instead of it. */
function worthStoring(packed: number, raw: number): boolean {
  return packed < raw - (raw >>> MIN_SAVING_SHIFT);
}

/** A view of `bytes` as a Buffer (lz4-napi's compressSync takes Buffers), without a copy. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

function corrupt(
  type: number,
  bytes: Uint8Array,
  rawLength: number,
  why: string,
  cause?: unknown,
): KvError {
  const detail = cause instanceof Error ? ` (${cause.message})` : '';
  return new KvError(
    'KV_CORRUPTION',
    `block of compression type ${type} (${bytes.length} bytes stored, ${rawLength} raw) does ` +
      `not decompress: ${why}${detail}`,
    cause === undefined ? undefined : { cause },
  );
}
