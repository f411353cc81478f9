// Owns kvd's logging interface (`Logger`: four methods, which pino's logger has), kvd's own
// JSON lines on stderr (pino, written synchronously so a crash loses nothing already logged),
// the silent logger, and tagging a caller's logger with the component that logs.

import { type Logger as PinoLogger, pino } from 'pino';

/**
 * Where kvd's log lines go: any object with these four methods, such as a pino logger (or a
 * child of one). kvd calls it only on the thread that opened the store (its threads' lines are
 * carried there), each time with an object of fields (an error is in `err`, a `component` names
 * the part that logs) and a message. Inside kvd a message may be passed alone (a string) where
 * there are no fields; a logger given to `Store.open` receives that as `({ component }, message)`.
 */
export interface Logger {
  /** Detail for debugging kvd. */
  debug(fields: object | string, message?: string): void;
  /** Lifecycle events: open, close, recovery, rotation, snapshots, merges. */
  info(fields: object | string, message?: string): void;
  /** Something unexpected that kvd handled (a damaged hint file, a leftover temporary file). */
  warn(fields: object | string, message?: string): void;
  /** A failure (a write that failed, a thread that crashed). */
  error(fields: object | string, message?: string): void;
}

/** The levels of `Logger`, lowest first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** One level of `Logger` (a method name). */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A logger that drops every line. */
export const SILENT_LOGGER: Logger = Object.freeze({
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
});

/**
 * Creates kvd's JSON-lines logger for one component ("store", "writer", "server", …) on
 * stderr, at `level` (default: the environment variable KVD_LOG_LEVEL, read now, else "info").
 * Any thread. Throws pino's error for a level pino does not know.
 */
export function createLogger(component: string, level?: string): PinoLogger {
  return pino(
    { level: level ?? process.env.KVD_LOG_LEVEL ?? 'info', base: { component, pid: process.pid } },
    pino.destination({ fd: 2, sync: true }),
  );
}

/**
 * The caller's `logger` with `component` added to the fields of every line, and a message given
 * alone turned into `({ component }, message)`. Any thread.
 */
export function componentLogger(logger: Logger, component: string): Logger {
  const tag =
    (level: LogLevel) =>
    (fields: object | string, message?: string): void => {
      if (typeof fields === 'string') logger[level]({ component }, fields);
      else logger[level]({ component, ...fields }, message);
    };
  return { debug: tag('debug'), info: tag('info'), warn: tag('warn'), error: tag('error') };
}

/**
 * The lowest level `logger` wants, from its `level` property as pino names levels ('trace' and
 * 'debug' are 'debug', 'fatal' is 'error'); undefined for pino's 'silent'; 'debug' (everything:
 * the logger filters) when it has no such property. Used to send a thread only the lines wanted.
 */
export function lowestLevel(logger: Logger): LogLevel | undefined {
  const level = (logger as { level?: unknown }).level;
  switch (level) {
    case 'silent':
      return undefined;
    case 'fatal':
      return 'error';
    case 'info':
    case 'warn':
    case 'error':
      return level;
    default:
      return 'debug';
  }
}

function ignore(): void {}
