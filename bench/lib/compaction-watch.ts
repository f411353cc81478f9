// Owns watching one running Store.compact() from the benchmark: bytes of input read so far
// (from its progress callback), whether it is still running, and its outcome, without an
// unhandled rejection while the load around it is measured.

import type { CompactionResult, Store } from '../engines/kvd.js';

/** A compact() started on `store`; `done` resolves with its result or rejects with its error. */
export class CompactionWatch {
  readonly started = performance.now();
  /** When compact() settled (performance.now()), or undefined while it runs. */
  endedAt: number | undefined;
  private readonly readPerMerge = new Map<number, number>();
  private readonly outcome: Promise<{ result?: CompactionResult; error?: unknown }>;

  constructor(store: Store) {
    this.outcome = store
      .compact((p) => this.readPerMerge.set(p.merge, p.bytesRead))
      .then(
        (result) => ({ result }),
        (error: unknown) => ({ error }),
      )
      .finally(() => {
        this.endedAt = performance.now();
      });
  }

  get running(): boolean {
    return this.endedAt === undefined;
  }

  /** Input bytes the merges have read so far. */
  get bytesRead(): number {
    let n = 0;
    for (const bytes of this.readPerMerge.values()) n += bytes;
    return n;
  }

  /** Waits for compact() to end; throws its error. */
  async done(): Promise<CompactionResult> {
    const { result, error } = await this.outcome;
    if (!result) throw error;
    return result;
  }
}
