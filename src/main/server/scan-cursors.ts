// Owns SCAN's cursors: the key listing taken when a scan starts (cursor 0), kept so that later
// pages continue it. A cursor is the scan's id times 2^32 plus the position in its listing. At
// most 64 scans are kept (least recently used dropped first), each for 5 minutes of inactivity.

/** Scans at most this many keys' listings at once. */
const MAX_SCANS = 64;
/** A scan unused this long is dropped. */
const IDLE_MS = 5 * 60_000;
const POSITION_SPAN = 2 ** 32;
/** Ids cycle below 2^20, so cursors stay below 2^52 (exact as JavaScript numbers). */
const ID_SPAN = 2 ** 20;

interface Scan {
  readonly keys: readonly Buffer[];
  usedAt: number;
}

/** The server's live scans. Main thread; shared by every connection, as Redis cursors are. */
export class ScanCursors {
  private readonly scans = new Map<number, Scan>();
  private nextId = 1;

  /** Keeps `keys` as a new scan's listing; returns the scan id. */
  start(keys: readonly Buffer[], now = Date.now()): number {
    this.dropIdle(now);
    while (this.scans.size >= MAX_SCANS) this.scans.delete(this.scans.keys().next().value!);
    const id = this.nextId;
    this.nextId = (this.nextId % (ID_SPAN - 1)) + 1;
    this.scans.set(id, { keys, usedAt: now });
    return id;
  }

  /** The listing of scan `id`, or undefined if it ended, expired or was dropped. */
  listing(id: number, now = Date.now()): readonly Buffer[] | undefined {
    this.dropIdle(now);
    const scan = this.scans.get(id);
    if (!scan) return undefined;
    scan.usedAt = now;
    this.scans.delete(id); // re-inserted last: Map order is the LRU order
    this.scans.set(id, scan);
    return scan.keys;
  }

  /** Forgets scan `id` (its last page was served). */
  end(id: number): void {
    this.scans.delete(id);
  }

  /** How many scans are kept. */
  get size(): number {
    return this.scans.size;
  }

  private dropIdle(now: number): void {
    for (const [id, scan] of this.scans) if (now - scan.usedAt > IDLE_MS) this.scans.delete(id);
  }
}

/** The cursor for position `position` of scan `id`. */
export function encodeCursor(id: number, position: number): number {
  return id * POSITION_SPAN + position;
}

/** The scan id and position a cursor names. */
export function decodeCursor(cursor: number): { id: number; position: number } {
  return { id: Math.floor(cursor / POSITION_SPAN), position: cursor % POSITION_SPAN };
}
