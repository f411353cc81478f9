// Owns kvd's structured logger (pino), shared by every thread. Logs go to stderr synchronously
// so a crash loses nothing already logged; KVD_LOG_LEVEL sets the level (default "info").

import { type Logger, pino } from 'pino';

/** The logger type (pino's). */
export type { Logger };

/** Creates the logger for one component ("store", "writer", "reader", "repl", …). */
export function createLogger(component: string): Logger {
  const level = process.env.KVD_LOG_LEVEL ?? 'info';
  return pino(
    { level, base: { component, pid: process.pid } },
    pino.destination({ fd: 2, sync: true }),
  );
}
