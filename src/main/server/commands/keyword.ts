// Owns reading a command's keyword argument (`ex`, `nx`, `byte`, …): case-insensitive, as latin1.
// Pure, with no imports, so code a network thread runs (bit-range.ts) reads keywords as the
// main thread's handlers do.

import { Buffer } from 'node:buffer';

/** `arg` decoded as latin1 and lower-cased: for comparing keywords (`ex`, `nx`, …). */
export function keyword(arg: Uint8Array): string {
  return Buffer.from(arg.buffer, arg.byteOffset, arg.length).toString('latin1').toLowerCase();
}
