// Owns crash logging for the kvd binary: an uncaught exception or unhandled rejection is
// logged (pino, synchronously to stderr, with its stack) before the process exits non-zero,
// so a crash always leaves a structured line behind.

import { createLogger } from '../index.js';

/** Installs the process-wide handlers. Call once, from the CLI entry, on the main thread. */
export function installCrashLogging(): void {
  const log = createLogger('process');
  process.on('uncaughtException', (error, origin) => {
    log.fatal({ err: error, origin }, 'uncaught exception; exiting');
    process.exit(70); // EX_SOFTWARE
  });
  process.on('unhandledRejection', (reason) => {
    log.fatal({ err: reason }, 'unhandled rejection; exiting');
    process.exit(70);
  });
}
