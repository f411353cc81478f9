// Owns the change feed's buffer on the writer: while the feed is on, a copy of every record
// run appended, handed out in log order as one buffer at a time (the store's `watchChanges`,
// replication's master). The log writer pushes to it; the writer service takes from it.

/** Copies of appended records, kept while the feed is on. Writer thread only. */
export class RecordFeed {
  private runs: Uint8Array[] | undefined;

  /** Whether copies are being kept. */
  get on(): boolean {
    return this.runs !== undefined;
  }

  /** Starts keeping copies (a no-op if already on). */
  start(): void {
    this.runs ??= [];
  }

  /** Stops keeping copies and drops those not taken. */
  stop(): void {
    this.runs = undefined;
  }

  /** Keeps a copy of `bytes[start, end)` if the feed is on (the caller's buffer is reused). */
  push(bytes: Uint8Array, start: number, end: number): void {
    this.runs?.push(bytes.slice(start, end));
  }

  /** The records pushed since the last call, in order, as one buffer; undefined if none. */
  take(): Uint8Array | undefined {
    const runs = this.runs;
    if (!runs || runs.length === 0) return undefined;
    this.runs = [];
    if (runs.length === 1) return runs[0];
    const out = new Uint8Array(runs.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of runs) {
      out.set(b, at);
      at += b.length;
    }
    return out;
  }
}
