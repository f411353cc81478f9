// Owns finding where each command ends in a master's replication stream (RESP multibulk), and
// where its first arguments lie, without making strings or views: the replica counts its offset
// in these bytes, as Redis does, takes out the REPLCONF commands meant for the link itself, and
// tells blind writes from the others (replica-checkpoint.ts). One pass per command, no
// allocation: this runs for every command a replica applies.

/** How many leading arguments a frame records (the name and three more). */
const RECORDED = 4;

/** Where the last scanned command lies in the buffer. Reused from one command to the next. */
export class CommandFrame {
  /** The offset just past the command. */
  end = 0;
  /** Its number of arguments, the name included (0: an inline command or a bare newline). */
  argc = 0;
  private readonly starts = new Int32Array(RECORDED);
  private readonly lengths = new Int32Array(RECORDED);

  /** Whether argument `i` (0: the name) is `lower`, letters compared in any case. */
  argIs(buf: Buffer, i: number, lower: string): boolean {
    if (i >= this.argc || i >= RECORDED || this.lengths[i] !== lower.length) return false;
    const start = this.starts[i]!;
    for (let j = 0; j < lower.length; j++) {
      if ((buf[start + j]! | 0x20) !== lower.charCodeAt(j)) return false;
    }
    return true;
  }

  /** Records argument `i`'s place (scanCommand). */
  note(i: number, start: number, length: number): void {
    if (i >= RECORDED) return;
    this.starts[i] = start;
    this.lengths[i] = length;
  }
}

/** Set by readNumber: the offset after the number's CRLF. */
let numberNext = 0;

/**
 * Scans the command at `start` into `frame`; false if `buf` does not hold all of it yet.
 * Throws on bytes that are not RESP.
 */
export function scanCommand(buf: Buffer, start: number, frame: CommandFrame): boolean {
  const length = buf.length;
  if (start >= length) return false;
  if (buf[start] !== 0x2a /* '*' */) {
    // An inline command (a bare newline is a keepalive): up to and including its LF.
    const lf = buf.indexOf(0x0a, start);
    if (lf === -1) return false;
    frame.end = lf + 1;
    frame.argc = 0;
    return true;
  }
  const count = readNumber(buf, start + 1);
  if (count < 0) return false;
  let pos = numberNext;
  for (let i = 0; i < count; i++) {
    if (pos >= length) return false;
    if (buf[pos] !== 0x24 /* '$' */)
      throw new Error(`expected a bulk string at stream byte ${pos}`);
    const size = readNumber(buf, pos + 1);
    if (size < 0) return false;
    frame.note(i, numberNext, size);
    pos = numberNext + size + 2;
    if (pos > length) return false;
  }
  frame.end = pos;
  frame.argc = count;
  return true;
}

/**
 * The decimal number from `pos` up to its CRLF (a negative length counts as 0), with
 * `numberNext` set past the CRLF; -1 if the buffer ends first.
 */
function readNumber(buf: Buffer, pos: number): number {
  const length = buf.length;
  let p = pos;
  let negative = false;
  if (p < length && buf[p] === 0x2d /* '-' */) {
    negative = true;
    p++;
  }
  let value = 0;
  let digits = 0;
  for (; p < length; p++) {
    const c = buf[p]!;
    if (c === 0x0d) break;
    if (c < 0x30 || c > 0x39 || ++digits > 15) {
      throw new Error(`bad length at stream byte ${pos}`);
    }
    value = value * 10 + (c - 0x30);
  }
  if (p + 1 >= length) return -1;
  if (digits === 0 || buf[p + 1] !== 0x0a) throw new Error(`bad length at stream byte ${pos}`);
  numberNext = p + 2;
  return negative ? 0 : value;
}
