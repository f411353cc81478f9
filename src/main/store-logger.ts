// Owns what `StoreOptions.logger` becomes for one open store: a logger per component on the
// caller's thread (silent, kvd's JSON lines on stderr, or the caller's logger tagged with the
// component) and what the writer thread is told to do with its own lines.

import {
  componentLogger,
  createLogger,
  type Logger,
  lowestLevel,
  SILENT_LOGGER,
} from '../shared/logger.js';
import type { WriterLogging } from '../shared/messages.js';

/** One store's logging. Caller's thread. */
export interface StoreLogger {
  /** The logger of one component ('store', 'compaction', or 'writer' for the writer's lines). */
  of(component: string): Logger;
  /** What the writer thread does with its lines (sent in its workerData). */
  readonly writer: WriterLogging;
}

/**
 * The logging of a store opened with `logger` (already checked by `resolveOptions`): nothing
 * for false or undefined; kvd's JSON lines on stderr for true (each thread writes its own, at
 * KVD_LOG_LEVEL, read now); else lines to `logger`, the writer's forwarded at or above the
 * level `logger.level` names (every line if it names none).
 */
export function storeLogger(logger: Logger | boolean | undefined): StoreLogger {
  if (logger === true) {
    const level = process.env.KVD_LOG_LEVEL ?? 'info';
    return { of: (component) => createLogger(component, level), writer: { to: 'stderr', level } };
  }
  if (logger === false || logger === undefined) {
    return { of: () => SILENT_LOGGER, writer: { to: 'none' } };
  }
  const level = lowestLevel(logger);
  return {
    of: (component) => componentLogger(logger, component),
    writer: level === undefined ? { to: 'none' } : { to: 'caller', level },
  };
}
