// Owns reading and writing a little-endian u64 held in a JavaScript number (< 2^53) through a
// DataView, for the codecs of hint files and index snapshots (format.ts has its own byte-array
// versions on the record hot path).

/** Writes `x` (< 2^53) at `at` as two little-endian u32 halves. */
export function setU64(v: DataView, at: number, x: number): void {
  v.setUint32(at, x >>> 0, true);
  v.setUint32(at + 4, Math.floor(x / 0x1_0000_0000), true);
}

/** Reads the u64 at `at` (< 2^53 by construction). */
export function getU64(v: DataView, at: number): number {
  return v.getUint32(at + 4, true) * 0x1_0000_0000 + v.getUint32(at, true);
}
