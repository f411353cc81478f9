// Owns starting a store's reader pool: Piscina threads running src/workers/reader.ts over the
// shared index, kept alive for the store's lifetime, with crashes logged rather than thrown.
// Piscina unrefs a reader thread while it has no task, so idle readers never hold the process.

import { Piscina } from 'piscina';
import type { Logger } from '../shared/logger.js';
import type { ReaderInit } from '../shared/messages.js';
import type { ReadMode } from '../shared/segment-fds.js';
import { threadExecArgv } from './thread-exec-argv.js';

/**
 * Piscina first tries `require()` on the worker file, which on Node 20.19+ loads our ESM file
 * through require(esm); under load that path has aborted the whole process (a native assertion
 * in ModuleWrap::CreateRequiredModuleFacade, seen in a benchmark run and, we believe, in a CI
 * run). With require(esm) off in the reader threads, Piscina's require fails cleanly and it
 * falls back to import(), the path an ESM file is meant to take.
 */
const READER_FLAGS = (process.features as { require_module?: boolean }).require_module
  ? ['--no-experimental-require-module']
  : [];

/**
 * Starts `readers` reader threads for the store in `dir` (absolute) over `index`; a reader
 * thread's crash is logged to `log`. Caller's thread.
 */
export function startReaderPool(
  dir: string,
  index: SharedArrayBuffer,
  readers: number,
  readMode: ReadMode,
  log: Logger,
): Piscina {
  const init: ReaderInit = { dir, index, readMode };
  const pool = new Piscina({
    filename: new URL('../workers/reader.js', import.meta.url).href,
    minThreads: readers,
    maxThreads: readers,
    idleTimeout: Number.POSITIVE_INFINITY,
    workerData: init,
    execArgv: threadExecArgv(READER_FLAGS),
  });
  // A reader thread that crashes fails its task (the caller sees the error) and Piscina
  // starts another; log it rather than let it surface as an uncaught exception.
  pool.on('error', (error: unknown) => log.error({ err: error }, 'reader thread crashed'));
  return pool;
}
