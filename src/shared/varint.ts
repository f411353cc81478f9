// Owns unsigned LEB128 varints as the sorted-segment format stores them: seven bits a byte, low
// group first, the high bit set on every byte but the last. Only the shortest encoding of a
// value is accepted, so each value has exactly one encoding.

/** Largest value a u32 varint holds. */
export const MAX_U32 = 0xffff_ffff;
/** Largest value a u53 varint holds (`Number.MAX_SAFE_INTEGER`). */
export const MAX_U53 = Number.MAX_SAFE_INTEGER;
/** Most bytes a u32 varint takes. */
export const MAX_VARINT32_BYTES = 5;
/** Most bytes a u53 varint takes. */
export const MAX_VARINT53_BYTES = 8;

/**
 * Why a varint could not be read: `truncated` (the bytes end inside it), `overlong` (a
 * needless trailing zero group: not the shortest encoding), `too-large` (above the width read).
 */
export type VarintFailure = 'truncated' | 'overlong' | 'too-large';

/** A read position, advanced past each varint read. */
export interface VarintCursor {
  /** Offset of the next byte to read. */
  pos: number;
}

/** Bytes the varint of `value` (an integer in 0..`MAX_U53`) takes. */
export function varintLength(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    n++;
  }
  return n;
}

/**
 * Writes the varint of `value` (an integer in 0..`MAX_U53`) at `out[at]` and returns the offset
 * after it. The caller makes room (`varintLength`). Throws RangeError for any other value.
 */
export function writeVarint(out: Uint8Array, at: number, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`varint value out of range: ${value}`);
  }
  while (value >= 0x80) {
    out[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[at++] = value;
  return at;
}

/**
 * Reads a varint of at most `max` (`MAX_U32` or `MAX_U53`) from `bytes[cursor.pos, end)` and
 * advances the cursor past it. Returns the value, or why it failed (the cursor then stays).
 */
export function readVarint(
  bytes: Uint8Array,
  cursor: VarintCursor,
  end: number,
  max: number,
): number | VarintFailure {
  const limit = max > MAX_U32 ? MAX_VARINT53_BYTES : MAX_VARINT32_BYTES;
  let at = cursor.pos;
  let value = 0;
  let scale = 1;
  for (let n = 0; n < limit; n++) {
    if (at >= end) return 'truncated';
    const b = bytes[at++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      if (b === 0 && n > 0) return 'overlong';
      if (value > max) return 'too-large';
      cursor.pos = at;
      return value;
    }
    scale *= 0x80;
  }
  return 'too-large';
}

/** Reads a u32 varint (see `readVarint`). */
export function readVarint32(
  bytes: Uint8Array,
  cursor: VarintCursor,
  end: number,
): number | VarintFailure {
  return readVarint(bytes, cursor, end, MAX_U32);
}

/** Reads a u53 varint (see `readVarint`). */
export function readVarint53(
  bytes: Uint8Array,
  cursor: VarintCursor,
  end: number,
): number | VarintFailure {
  return readVarint(bytes, cursor, end, MAX_U53);
}
