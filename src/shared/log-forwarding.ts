// Owns carrying a thread's log lines to the caller's thread: the Logger that turns each line at
// or above a level into a WriterLogMessage (errors made plain objects first, since structured
// clone drops their custom fields), and handing such a message to the caller's logger.

import { LOG_LEVELS, type Logger, type LogLevel } from './logger.js';
import type { PlainError, WriterLogMessage } from './messages.js';

/**
 * A Logger that posts every line at or above `level` through `post` (a port's postMessage) and
 * drops the rest. Any thread. A line whose fields cannot be cloned (a function, say) is posted
 * with those fields as text, never lost and never thrown.
 */
export function forwardingLogger(
  post: (message: WriterLogMessage) => void,
  level: LogLevel,
): Logger {
  const lowest = LOG_LEVELS.indexOf(level);
  const at =
    (lineLevel: LogLevel) =>
    (fields: object | string, message?: string): void => {
      if (LOG_LEVELS.indexOf(lineLevel) < lowest) return;
      const line =
        typeof fields === 'string'
          ? { level: lineLevel, fields: {}, message: fields }
          : { level: lineLevel, fields: plainFields(fields), message };
      try {
        post({ kvdLog: line });
      } catch (error) {
        post({ kvdLog: { ...line, fields: { text: asText(fields), cloneError: String(error) } } });
      }
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Hands one forwarded line to `logger`. Caller's thread. */
export function logForwardedLine(logger: Logger, line: WriterLogMessage['kvdLog']): void {
  logger[line.level](line.fields, line.message);
}

/** `fields` with each `Error` value (such as `err`) replaced by a `PlainError`. */
export function plainFields(fields: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    out[name] = value instanceof Error ? plainError(value) : value;
  }
  return out;
}

function asText(fields: object | string): string {
  try {
    return JSON.stringify(fields) ?? String(fields);
  } catch {
    return String(fields);
  }
}

function plainError(error: Error): PlainError {
  const code = (error as { code?: unknown }).code;
  return {
    type: error.name,
    message: error.message,
    ...(code === undefined ? {} : { code: String(code) }),
    ...(error.stack === undefined ? {} : { stack: error.stack }),
  };
}
