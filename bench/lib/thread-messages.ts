// Owns the shapes of every message and workerData between run.ts's thread and the benchmark
// worker threads in bench/workers (both sides import them from here).

import type { Measurement } from './measure.js';

/** Main → worker: start measuring now (sent to every worker once all are ready). */
export type ToThread = { readonly type: 'go' };

/** Worker → main. */
export type FromThread =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly measurement: Measurement }
  | { readonly type: 'failed'; readonly message: string };

/** workerData of workers/pread-worker: random `readBytes` preads of one file. */
export interface PreadJob {
  readonly path: string;
  readonly fileBytes: number;
  readonly readBytes: number;
  readonly timeMs: number;
  readonly seed: number;
}

/** workerData of workers/lmdb-reader and workers/sqlite-reader: random gets of present keys. */
export interface ReadJob {
  /** The lmdb directory, or the SQLite file. */
  readonly path: string;
  readonly count: number;
  readonly valueBytes: number;
  readonly timeMs: number;
  readonly seed: number;
}
