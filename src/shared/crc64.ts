// Owns CRC-64/Jones, the checksum at the end of a Redis RDB file: reflected, polynomial
// 0xad93d23594c935a9, initial value 0, no final xor (check value of "123456789":
// 0xe9c6d914c4b8d9ca). The 64-bit state is kept as two 32-bit halves so that no BigInt is
// made per byte.

/** The reflected polynomial's table, low and high 32 bits of each entry. */
const TABLE_LO = new Uint32Array(256);
const TABLE_HI = new Uint32Array(256);

(() => {
  // Reflected polynomial (bit-reversed 0xad93d23594c935a9) = 0x95ac9329ac4bc9b5.
  const POLY_LO = 0xac4bc9b5;
  const POLY_HI = 0x95ac9329;
  for (let n = 0; n < 256; n++) {
    let lo = n;
    let hi = 0;
    for (let bit = 0; bit < 8; bit++) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi >>>= 1;
      if (carry) {
        lo = (lo ^ POLY_LO) >>> 0;
        hi = (hi ^ POLY_HI) >>> 0;
      }
    }
    TABLE_LO[n] = lo;
    TABLE_HI[n] = hi;
  }
})();

/** A running CRC-64/Jones: `update` it with each piece in order, then read `value`. */
export class Crc64 {
  private lo = 0;
  private hi = 0;

  /** Adds `bytes[start, end)` to the checksum. */
  update(bytes: Uint8Array, start = 0, end = bytes.length): this {
    let lo = this.lo;
    let hi = this.hi;
    for (let i = start; i < end; i++) {
      const index = (lo ^ bytes[i]!) & 0xff;
      lo = ((lo >>> 8) | ((hi & 0xff) << 24)) ^ TABLE_LO[index]!;
      hi = (hi >>> 8) ^ TABLE_HI[index]!;
    }
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
    return this;
  }

  /** A checksum that starts where this one is now. */
  copy(): Crc64 {
    const copy = new Crc64();
    copy.lo = this.lo;
    copy.hi = this.hi;
    return copy;
  }

  /** The checksum so far as a 64-bit unsigned integer. */
  get value(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }

  /** The checksum so far as 8 bytes, little-endian (as an RDB file ends). */
  bytes(): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeUInt32LE(this.lo, 0);
    out.writeUInt32LE(this.hi, 4);
    return out;
  }
}
