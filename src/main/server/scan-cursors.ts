// Owns SCAN's cursors: what "continue after key K" each cursor the server handed out stands for.
// Per scan the table keeps the last key of its latest page and of the page before (so a client
// resending the previous cursor, after a lost reply, gets that page again), nothing else.

/**
 * Scans kept at once; beyond this the least recently used is dropped. Each costs two keys,
 * so many scans abandoned halfway (a client that stops iterating) cost little.
 */
export const MAX_SCANS = 4096;
/** Key bytes kept by all scans together; beyond this the least recently used are dropped. */
export const MAX_SCAN_KEY_BYTES = 32 * 1024 * 1024;
/** A scan unused this long is dropped. */
export const SCAN_IDLE_MS = 60 * 60_000;
/**
 * A cursor is `scan id × STEP_SPAN + step`: the step counts the scan's pages (wrapping; only
 * the latest two are valid). Ids cycle below 2^32, so every cursor is below 2^52: exact as a
 * JavaScript number, and within the unsigned 64 bits Redis clients expect.
 */
const STEP_SPAN = 2 ** 20;
const ID_SPAN = 2 ** 32;
/** The greatest cursor Redis accepts (an unsigned 64-bit integer). */
const MAX_CURSOR = 2n ** 64n - 1n;

/** Where a SCAN call continues: the scan (0: a new one, from cursor 0) and the key to go past. */
export interface ScanPosition {
  /** The scan's id; 0 for cursor 0 (its id is given when a page continues it). */
  readonly scan: number;
  /** The step the cursor named (0 for cursor 0). */
  readonly step: number;
  /** Continue after this key; undefined: from the first key. */
  readonly after: Buffer | undefined;
}

interface Scan {
  /** The step of the latest cursor handed out; `after` is where it continues. */
  step: number;
  after: Buffer;
  /** Where the cursor of step `step - 1` continues (undefined: that cursor was 0). */
  previous: Buffer | undefined;
  usedAt: number;
}

/**
 * The cursor `text` names (leading zeros allowed), or undefined if it is not an unsigned 64-bit
 * decimal integer (Redis answers `ERR invalid cursor`). Pure.
 */
export function parseCursor(text: string): bigint | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const cursor = BigInt(text);
  return cursor <= MAX_CURSOR ? cursor : undefined;
}

/**
 * The server's live scans. Main thread; shared by every connection (a client may continue a
 * scan on another connection, as with Redis). Bounded by `MAX_SCANS`, `MAX_SCAN_KEY_BYTES` and
 * `SCAN_IDLE_MS`; a cursor whose scan was dropped, ended or never existed is unknown.
 */
export class ScanCursors {
  /** By scan id, least recently used first (Map order: a use re-inserts). */
  private readonly scans = new Map<number, Scan>();
  private keyBytes = 0;
  private nextId = 1;

  /**
   * Where `cursor` continues: cursor 0 starts a new scan; a cursor handed out by `advance`
   * continues its scan, as long as it is the scan's latest or the one before. Undefined for any
   * other cursor (unknown, expired, dropped, or its scan ended).
   */
  resume(cursor: bigint, now = Date.now()): ScanPosition | undefined {
    this.dropIdle(now);
    if (cursor === 0n) return { scan: 0, step: 0, after: undefined };
    if (cursor > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    const value = Number(cursor);
    const id = Math.floor(value / STEP_SPAN);
    const step = value % STEP_SPAN;
    const scan = this.scans.get(id);
    if (scan === undefined) return undefined;
    let after: Buffer | undefined;
    if (step === scan.step) after = scan.after;
    else if (step === (scan.step + STEP_SPAN - 1) % STEP_SPAN && scan.previous !== undefined) {
      after = scan.previous;
    } else return undefined;
    scan.usedAt = now;
    this.scans.delete(id); // re-inserted last: the most recently used
    this.scans.set(id, scan);
    return { scan: id, step, after };
  }

  /**
   * Records that the page read from `from` ended at key `last` (the scan goes on), and returns
   * the cursor that continues after it. The scan becomes the most recently used; the least
   * recently used others are dropped past the bounds.
   */
  advance(from: ScanPosition, last: Buffer, now = Date.now()): number {
    const id = from.scan === 0 ? this.newId() : from.scan;
    this.forget(id);
    const step = (from.step + 1) % STEP_SPAN;
    const scan: Scan = { step, after: last, previous: from.after, usedAt: now };
    this.scans.set(id, scan);
    this.keyBytes += sizeOf(scan);
    for (const [oldest] of this.scans) {
      if (this.scans.size <= MAX_SCANS && this.keyBytes <= MAX_SCAN_KEY_BYTES) break;
      if (oldest === id) break; // the newest alone stays, whatever its size
      this.forget(oldest);
    }
    return id * STEP_SPAN + step;
  }

  /** Forgets the scan `from` continued (its last page was served). */
  end(from: ScanPosition): void {
    if (from.scan !== 0) this.forget(from.scan);
  }

  /** How many scans are kept. */
  get size(): number {
    return this.scans.size;
  }

  private newId(): number {
    let id = this.nextId;
    while (this.scans.has(id)) id = (id % (ID_SPAN - 1)) + 1;
    this.nextId = (id % (ID_SPAN - 1)) + 1;
    return id;
  }

  private forget(id: number): void {
    const scan = this.scans.get(id);
    if (scan === undefined) return;
    this.keyBytes -= sizeOf(scan);
    this.scans.delete(id);
  }

  private dropIdle(now: number): void {
    for (const [id, scan] of this.scans) {
      if (now - scan.usedAt <= SCAN_IDLE_MS) break; // the rest were used later
      this.forget(id);
    }
  }
}

function sizeOf(scan: Scan): number {
  return scan.after.length + (scan.previous?.length ?? 0);
}
