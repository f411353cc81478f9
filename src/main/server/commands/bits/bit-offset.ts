// Owns reading a bit offset argument (SETBIT, GETBIT, BITFIELD) with Redis's rule and error: a
// non-negative integer whose byte (offset / 8) is below proto-max-bulk-len (kvd's
// `--max-bulk-bytes`); BITFIELD also takes `#n`, meaning n times the field's width.

import { parseInteger } from '../../../../shared/write-ops.js';
import { error, type RespValue } from '../../resp-value.js';

/** Redis's reply to a bad bit offset. */
export const BAD_BIT_OFFSET = error('ERR bit offset is not an integer or out of range');

/**
 * The bit offset `arg` names, or `BAD_BIT_OFFSET` (`maxBulkBytes`: proto-max-bulk-len). With
 * `fieldBits`, `#n` is accepted and means n × fieldBits.
 */
export function parseBitOffset(
  maxBulkBytes: number,
  arg: Buffer,
  fieldBits?: number,
): number | RespValue {
  const scaled = fieldBits !== undefined && arg[0] === 0x23; // '#'
  const n = parseInteger(scaled ? arg.subarray(1) : arg);
  if (n === undefined || n < 0n) return BAD_BIT_OFFSET;
  const offset = scaled ? n * BigInt(fieldBits) : n;
  if (offset >> 3n >= BigInt(maxBulkBytes)) return BAD_BIT_OFFSET;
  return Number(offset);
}
