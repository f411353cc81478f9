// Owns finding where each command ends in a master's replication stream (RESP multibulk), without
// parsing its arguments: the replica counts its offset in these bytes, as Redis does, and takes
// out the REPLCONF commands meant for the link itself.

/** Where a complete command ends, or -1 if `buf` from `start` does not hold a whole one. */
export function commandEnd(buf: Buffer, start: number): number {
  let pos = start;
  if (pos >= buf.length) return -1;
  if (buf[pos] !== 0x2a /* '*' */) {
    // An inline command (a bare newline is a keepalive): up to and including its LF.
    const lf = buf.indexOf(0x0a, pos);
    return lf === -1 ? -1 : lf + 1;
  }
  const header = readNumber(buf, pos + 1);
  if (header === undefined) return -1;
  let count = header.value;
  pos = header.next;
  while (count-- > 0) {
    if (pos >= buf.length) return -1;
    if (buf[pos] !== 0x24 /* '$' */)
      throw new Error(`expected a bulk string at stream byte ${pos}`);
    const bulk = readNumber(buf, pos + 1);
    if (bulk === undefined) return -1;
    pos = bulk.next + bulk.value + 2;
    if (pos > buf.length) return -1;
  }
  return pos;
}

/** The first argument of the complete multibulk command at `start` (its bytes, a view). */
export function commandName(buf: Buffer, start: number): Buffer | undefined {
  if (buf[start] !== 0x2a) return undefined;
  const header = readNumber(buf, start + 1);
  if (header === undefined || header.value < 1) return undefined;
  const bulk = readNumber(buf, header.next + 1);
  if (bulk === undefined) return undefined;
  return buf.subarray(bulk.next, bulk.next + bulk.value);
}

/** Every argument of the complete multibulk command at `start` (views of `buf`). */
export function commandArgs(buf: Buffer, start: number): Buffer[] {
  const header = readNumber(buf, start + 1);
  if (buf[start] !== 0x2a || header === undefined) return [];
  const args: Buffer[] = [];
  let pos = header.next;
  for (let i = 0; i < header.value; i++) {
    const bulk = readNumber(buf, pos + 1);
    if (bulk === undefined) break;
    args.push(buf.subarray(bulk.next, bulk.next + bulk.value));
    pos = bulk.next + bulk.value + 2;
  }
  return args;
}

/** A decimal number up to CRLF from `pos`, and where what follows begins. */
function readNumber(buf: Buffer, pos: number): { value: number; next: number } | undefined {
  const cr = buf.indexOf(0x0d, pos);
  if (cr === -1 || cr + 1 >= buf.length) return undefined;
  const value = Number(buf.toString('latin1', pos, cr));
  if (!Number.isSafeInteger(value) || value < -1) {
    throw new Error(`bad length "${buf.toString('latin1', pos, cr)}" at stream byte ${pos}`);
  }
  return { value: Math.max(0, value), next: cr + 2 };
}
