// Owns the byte layouts of a reader task and its reply (see messages.ts): the caller packs
// keys, the reader unpacks them and packs values, the caller unpacks values as zero-copy views.

import { Buffer } from 'node:buffer';
import { RECORD_HEADER_BYTES } from './format.js';
import { byteLength, type KeyInput } from './key-bytes.js';
import { eachHashedAhead } from './key-groups.js';
import type { RecordReader } from './record-reader.js';

const encoder = new TextEncoder();

/** Packs keys as [u32 count][u32 length × count][bytes…] into a transferable buffer. */
export function packKeys(keys: readonly KeyInput[]): ArrayBuffer {
  const count = keys.length;
  const lengths = new Uint32Array(count);
  let total = 4 + 4 * count;
  for (let i = 0; i < count; i++) {
    const n = byteLength(keys[i]!);
    lengths[i] = n;
    total += n;
  }
  const out = new Uint8Array(total);
  const head = new Uint32Array(out.buffer, 0, 1 + count); // little-endian on every platform Node runs on
  head[0] = count;
  head.set(lengths, 1);
  let at = 4 + 4 * count;
  for (let i = 0; i < count; i++) {
    const key = keys[i]!;
    const n = lengths[i]!;
    if (typeof key !== 'string') out.set(key, at);
    else if (n === key.length) {
      // ASCII: copy code units directly, no TextEncoder allocation per key.
      for (let j = 0; j < n; j++) out[at + j] = key.charCodeAt(j);
    } else encoder.encodeInto(key, out.subarray(at, at + n));
    at += n;
  }
  return out.buffer;
}

/** Unpacks keys packed by `packKeys` (starting at byte `from`) as views into the buffer. */
export function unpackKeys(packed: ArrayBuffer, from = 0): Uint8Array[] {
  const view = new DataView(packed, from);
  const count = view.getUint32(0, true);
  const keys: Uint8Array[] = new Array(count);
  let at = from + 4 + 4 * count;
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(4 + 4 * i, true);
    keys[i] = new Uint8Array(packed, at, length);
    at += length;
  }
  return keys;
}

/**
 * Reads every key with `reader` straight into one growing reply buffer:
 * [i32 valueStart, i32 valueLength] per key (start −1 = absent), then the records.
 */
export function readValues(reader: RecordReader, keys: readonly Uint8Array[]): ArrayBuffer {
  const tableBytes = 8 * keys.length;
  let out = new Uint8Array(tableBytes + keys.length * (RECORD_HEADER_BYTES + 128));
  let used = tableBytes;
  const spans = new Int32Array(keys.length * 2);
  const destination = (length: number) => {
    if (used + length > out.length) {
      const bigger = new Uint8Array(Math.max(out.length * 2, used + length));
      bigger.set(out.subarray(0, used));
      out = bigger;
    }
    return { buffer: out, at: used };
  };
  eachHashedAhead(reader, keys, (i, ahead) => {
    const hit = reader.read(keys[i]!, destination, ahead);
    if (hit) {
      spans[2 * i] = hit.valueStart;
      spans[2 * i + 1] = hit.valueLength;
      used += hit.recordLength;
    } else {
      spans[2 * i] = -1;
    }
  });
  new Uint8Array(out.buffer, 0, tableBytes).set(new Uint8Array(spans.buffer));
  return out.buffer; // transferred whole: trimming it would copy every value
}

/** Unpacks a `readValues` reply into Buffers that view the reply (no copies). */
export function unpackValues(reply: ArrayBuffer, count: number): (Buffer | undefined)[] {
  const spans = new Int32Array(reply, 0, count * 2);
  const values: (Buffer | undefined)[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const start = spans[2 * i]!;
    values[i] = start < 0 ? undefined : Buffer.from(reply, start, spans[2 * i + 1]!);
  }
  return values;
}

/** A record `readKeysAt` could not read because it is damaged: its handle and offset. */
export interface DamagedLocation {
  readonly handle: number;
  readonly offset: number;
}

/**
 * Reads the keys at (handle, offset, length) triples. The reply is the live keys packed like
 * `packKeys`, then the expired keys packed the same way (the store has them reaped), then
 * [u32 damaged count][u32 handle, u32 offset × count]: the records that failed their check
 * (`KV_CORRUPTION`), left out so one damaged record does not hide every other key. Other errors
 * (I/O) throw.
 */
export function readKeysAt(reader: RecordReader, locations: Uint32Array): ArrayBuffer {
  const keys: Uint8Array[] = [];
  const expired: Uint8Array[] = [];
  const damaged: number[] = [];
  const now = Date.now();
  for (let i = 0; i + 2 < locations.length; i += 3) {
    try {
      const record = reader.located.recordAt(locations[i]!, locations[i + 1]!, locations[i + 2]!);
      if (record.expiresAt !== 0 && record.expiresAt <= now) expired.push(record.key);
      else keys.push(record.key);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'KV_CORRUPTION') throw error;
      damaged.push(locations[i]!, locations[i + 1]!);
    }
  }
  const live = new Uint8Array(packKeys(keys));
  const gone = new Uint8Array(packKeys(expired));
  const out = new Uint8Array(live.length + gone.length + 4 + 4 * damaged.length);
  out.set(live);
  out.set(gone, live.length);
  const trailer = new DataView(out.buffer, live.length + gone.length);
  trailer.setUint32(0, damaged.length / 2, true);
  for (let i = 0; i < damaged.length; i++) trailer.setUint32(4 + 4 * i, damaged[i]!, true);
  return out.buffer;
}

/**
 * Unpacks a `readKeysAt` reply: the live keys and the expired ones (views into the reply), and
 * the damaged records.
 */
export function unpackKeysAt(reply: ArrayBuffer): {
  keys: Uint8Array[];
  expired: Uint8Array[];
  damaged: DamagedLocation[];
} {
  const keys = unpackKeys(reply);
  const liveEnd = packedLength(keys);
  const expired = unpackKeys(reply, liveEnd);
  const view = new DataView(reply, liveEnd + packedLength(expired));
  const damaged: DamagedLocation[] = [];
  const count = view.getUint32(0, true);
  for (let i = 0; i < count; i++) {
    damaged.push({
      handle: view.getUint32(4 + 8 * i, true),
      offset: view.getUint32(8 + 8 * i, true),
    });
  }
  return { keys, expired, damaged };
}

/** Bytes `packKeys` laid `keys` out in. */
function packedLength(keys: readonly Uint8Array[]): number {
  let n = 4 + 4 * keys.length;
  for (const k of keys) n += k.length;
  return n;
}

/** Presence flags: one byte per key. */
export function readPresence(reader: RecordReader, keys: readonly Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(keys.length);
  eachHashedAhead(reader, keys, (i, ahead) => {
    out[i] = reader.has(keys[i]!, ahead) ? 1 : 0;
  });
  return out.buffer;
}
