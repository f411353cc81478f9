// Owns recognising a plain GET in a client's request bytes: exactly
// `*2\r\n$3\r\nGET\r\n$<n>\r\n<key>\r\n` (GET in any case, <n> in canonical decimal). A network
// thread answers such GETs itself, and so does the main thread for a client with nothing else
// pending (plain-gets.ts). Anything else, or a GET that path should not answer (a key longer
// than the store allows), is "other": it goes to the full RESP parser, which answers it as for
// any client (a network thread first hands the connection back to the main thread).

/** What the bytes from a position hold. */
export const SCAN_GET = 0;
/** More bytes are needed, and what came so far may still be a plain GET. */
export const SCAN_INCOMPLETE = 1;
/** Not a plain GET (or not one this thread answers): hand the connection back from here. */
export const SCAN_OTHER = 2;

const CR = 13;
const LF = 10;
const ZERO = 48;
const NINE = 57;
/** `*2\r\n$3\r\n`: the fixed start of a two-argument request whose first argument has 3 bytes. */
const PREFIX = [42, 50, CR, LF, 36, 51, CR, LF];

/**
 * Scans one request from `from`. On SCAN_GET, `keyStart`, `keyEnd` and `next` (the byte after
 * the request) are set. Never throws; never reads past `end`.
 */
export class GetRequestScan {
  keyStart = 0;
  keyEnd = 0;
  next = 0;

  constructor(readonly maxKeyBytes: number) {}

  scan(b: Uint8Array, from: number, end: number): number {
    let p = from;
    for (let i = 0; i < PREFIX.length; i++, p++) {
      if (p >= end) return SCAN_INCOMPLETE;
      if (b[p] !== PREFIX[i]) return SCAN_OTHER;
    }
    if (end - p < 5) return this.partial(b, p, end, [71, 69, 84, CR, LF]);
    // G, E, T in either case (ASCII letters differ from their capitals by bit 5 only).
    if ((b[p]! | 32) !== 103 || (b[p + 1]! | 32) !== 101 || (b[p + 2]! | 32) !== 116)
      return SCAN_OTHER;
    if (b[p + 3] !== CR || b[p + 4] !== LF) return SCAN_OTHER;
    p += 5;
    if (p >= end) return SCAN_INCOMPLETE;
    if (b[p] !== 36) return SCAN_OTHER; // '$'
    p++;
    const digitsStart = p;
    let length = 0;
    for (;;) {
      if (p >= end) return SCAN_INCOMPLETE;
      const c = b[p]!;
      if (c === CR) break;
      if (c < ZERO || c > NINE) return SCAN_OTHER;
      // Canonical decimal only: no leading zero before another digit.
      if (p > digitsStart && b[digitsStart] === ZERO) return SCAN_OTHER;
      length = length * 10 + (c - ZERO);
      if (length > this.maxKeyBytes) return SCAN_OTHER;
      p++;
    }
    if (p === digitsStart) return SCAN_OTHER;
    if (p + 1 >= end) return SCAN_INCOMPLETE;
    if (b[p + 1] !== LF) return SCAN_OTHER;
    p += 2;
    if (end - p < length + 2) return SCAN_INCOMPLETE;
    if (b[p + length] !== CR || b[p + length + 1] !== LF) return SCAN_OTHER;
    this.keyStart = p;
    this.keyEnd = p + length;
    this.next = p + length + 2;
    return SCAN_GET;
  }

  /** The command name cut short: still a GET if the bytes so far match `GET\r\n` (any case). */
  private partial(b: Uint8Array, p: number, end: number, expected: readonly number[]): number {
    for (let i = 0; p < end; i++, p++) {
      const c = i < 3 ? b[p]! | 32 : b[p]!;
      if (c !== (i < 3 ? expected[i]! | 32 : expected[i])) return SCAN_OTHER;
    }
    return SCAN_INCOMPLETE;
  }
}
