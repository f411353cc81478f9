// Owns the size bound of the string commands that grow a value (SETRANGE here, SETBIT and
// BITFIELD in bits/): Redis's proto-max-bulk-len, which in kvd is `--max-bulk-bytes`. A value
// within it that still passes the store's maxValueBytes is refused by the store
// (KV_VALUE_TOO_LARGE).

import type { CommandContext } from '../../command-context.js';
import { error } from '../../resp-value.js';

/** Redis's reply to a SETRANGE (or APPEND) whose result would pass proto-max-bulk-len. */
export const STRING_TOO_LONG = error(
  'ERR string exceeds maximum allowed size (proto-max-bulk-len)',
);

/** Whether a string of `bytes` bytes passes proto-max-bulk-len (kvd's `--max-bulk-bytes`). */
export function exceedsBulkLimit(ctx: CommandContext, bytes: number): boolean {
  return bytes > ctx.server.settings.maxBulkBytes;
}
