// Owns the data formats KvdLevel takes natively (abstract-level's `utf8`, `buffer` and `view`),
// and turning the bytes kvd reads back into the format a call asked for. kvd stores a string as
// its UTF-8 bytes, so the three formats are views of the same bytes and need no transcoder.

import { Buffer } from 'node:buffer';
import type { Bytes } from '../index.js';

/** A format abstract-level hands KvdLevel's private methods: the encoded key or value. */
export type LevelFormat = 'utf8' | 'buffer' | 'view';

/** A key or value in one of the `LevelFormat`s: a string, a Buffer or a Uint8Array. */
export type LevelData = Bytes;

/**
 * `bytes` (as read from kvd) in `format`: a UTF-8 string, or the Buffer itself for `buffer`
 * and `view` (a Buffer is a Uint8Array, which abstract-level accepts for `view`).
 */
export function asFormat(bytes: Buffer, format: string): LevelData {
  return format === 'utf8' ? bytes.toString('utf8') : bytes;
}

/** `asFormat` for a value that may be absent. */
export function asFormatOrUndefined(
  bytes: Buffer | undefined,
  format: string,
): LevelData | undefined {
  return bytes === undefined ? undefined : asFormat(bytes, format);
}

/** `data` as bytes, for comparing keys in byte order (a string by its UTF-8 bytes). */
export function toBytes(data: LevelData): Buffer {
  return typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
