// Owns LZF decompression, the compression Redis applies to long strings in RDB files (string
// encoding 3). Only decompression: kvd writes its RDB strings uncompressed.

import { Buffer } from 'node:buffer';
import { KvError } from './errors.js';

/**
 * Decompresses an LZF block into exactly `length` bytes. Throws `KV_CORRUPTION` if the block
 * refers before its start, runs past its end, or does not make `length` bytes.
 */
export function lzfDecompress(input: Uint8Array, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let ip = 0;
  let op = 0;
  while (ip < input.length) {
    const ctrl = input[ip++]!;
    if (ctrl < 32) {
      // A literal run of ctrl + 1 bytes.
      const run = ctrl + 1;
      if (ip + run > input.length || op + run > length) throw damaged('a literal run overflows');
      out.set(input.subarray(ip, ip + run), op);
      ip += run;
      op += run;
      continue;
    }
    // A back reference: length in the top 3 bits (7: one more length byte), distance in the
    // low 5 bits and the next byte.
    let run = ctrl >>> 5;
    if (run === 7) {
      if (ip >= input.length) throw damaged('a back reference is cut short');
      run += input[ip++]!;
    }
    if (ip >= input.length) throw damaged('a back reference is cut short');
    let ref = op - ((ctrl & 0x1f) << 8) - input[ip++]! - 1;
    run += 2;
    if (ref < 0) throw damaged('a back reference points before the start');
    if (op + run > length) throw damaged('a back reference overflows');
    // Byte by byte: the source may overlap what is being written (a repeated pattern).
    for (let i = 0; i < run; i++) out[op++] = out[ref++]!;
  }
  if (op !== length) throw damaged(`it makes ${op} bytes, not ${length}`);
  return out;
}

function damaged(what: string): KvError {
  return new KvError('KV_CORRUPTION', `LZF block damaged: ${what}`);
}
