// Owns bit addressing in a string value, as Redis numbers bits: bit 0 is the most significant bit
// of byte 0. Reading past the end reads zeros. Pure functions over buffers, shared by SETBIT,
// GETBIT, BITCOUNT, BITPOS and BITFIELD.

// Offsets can pass 2^32 bits (a value over 512 MiB), so byte indexes are computed with
// division, never with 32-bit shifts.

import { Buffer } from 'node:buffer';

/** The bit at `offset` (0 or 1); 0 past the end. */
export function bitAt(value: Uint8Array, offset: number): number {
  const byte = value[Math.floor(offset / 8)];
  return byte === undefined ? 0 : (byte >> (7 - (offset % 8))) & 1;
}

/** Sets the bit at `offset` (inside `value`) to `bit`, in place. */
export function writeBit(value: Uint8Array, offset: number, bit: number): void {
  const mask = 0x80 >> (offset % 8);
  const index = Math.floor(offset / 8);
  value[index] = bit ? value[index]! | mask : value[index]! & ~mask;
}

/** `value` copied into a buffer of at least `length` bytes (zero-filled past its end). */
export function grownCopy(value: Uint8Array | undefined, length: number): Buffer {
  const copy = Buffer.alloc(Math.max(value?.length ?? 0, length));
  if (value) copy.set(value);
  return copy;
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, byte) => {
  let n = 0;
  for (let b = byte; b !== 0; b >>= 1) n += b & 1;
  return n;
});

/** Set bits from bit `first` to bit `last` inclusive (both inside `value`). */
export function countBits(value: Uint8Array, first: number, last: number): number {
  let count = 0;
  let bit = first;
  for (; bit <= last && bit % 8 !== 0; bit++) count += bitAt(value, bit);
  for (; bit + 7 <= last; bit += 8) count += POPCOUNT[value[bit / 8]!]!;
  for (; bit <= last; bit++) count += bitAt(value, bit);
  return count;
}

/** The first bit equal to `target` from bit `first` to bit `last` inclusive, or -1. */
export function findBit(value: Uint8Array, target: number, first: number, last: number): number {
  const skip = target ? 0x00 : 0xff; // a byte with no bit equal to target
  let bit = first;
  for (; bit <= last && bit % 8 !== 0; bit++) if (bitAt(value, bit) === target) return bit;
  while (bit + 7 <= last && value[bit / 8] === skip) bit += 8;
  for (; bit <= last; bit++) if (bitAt(value, bit) === target) return bit;
  return -1;
}

/**
 * The `bits`-wide field at bit `offset` (big-endian, as BITFIELD reads it; zeros past the end),
 * as an unsigned integer, or two's complement when `signed`.
 */
export function readField(
  value: Uint8Array,
  offset: number,
  bits: number,
  signed: boolean,
): bigint {
  let field = 0n;
  for (let i = 0; i < bits; i++) field = (field << 1n) | BigInt(bitAt(value, offset + i));
  if (signed && bits > 0 && field >> BigInt(bits - 1) === 1n) field -= 1n << BigInt(bits);
  return field;
}

/** Writes the low `bits` bits of `field` at bit `offset` (inside `value`), in place. */
export function writeField(value: Uint8Array, offset: number, bits: number, field: bigint): void {
  for (let i = 0; i < bits; i++) {
    writeBit(value, offset + i, Number((field >> BigInt(bits - 1 - i)) & 1n));
  }
}
