// Entry point of the writer worker thread: exposes a WriterService over comlink on the
// worker's parent port, with its log lines sent where workerData (WriterInit) says. This is the
// only file of the writer that touches parentPort.

import { parentPort, workerData } from 'node:worker_threads';
import { expose } from 'comlink';
import { nodeEndpoint } from '../shared/comlink-endpoint.js';
import { forwardingLogger } from '../shared/log-forwarding.js';
import { createLogger, type Logger, SILENT_LOGGER } from '../shared/logger.js';
import type {
  RecoveryProgressMessage,
  WriterFeedMessage,
  WriterInit,
  WriterLogging,
  WriterLogMessage,
} from '../shared/messages.js';
import { WriterService } from './writer-service.js';

if (!parentPort) throw new Error('writer.ts must run as a worker thread');
const port = parentPort;
// Recovery is synchronous; postMessage still delivers each progress report right away.
const reportRecovery = (done: number, total: number) => {
  const message: RecoveryProgressMessage = { kvdRecoveryProgress: { done, total } };
  port.postMessage(message);
};

function writerLogger(logging: WriterLogging | undefined): Logger {
  switch (logging?.to) {
    case 'stderr':
      return createLogger('writer', logging.level);
    case 'caller':
      // Lines travel outside comlink too; WriterLink hands them to the store's logger.
      return forwardingLogger(
        (message: WriterLogMessage) => port.postMessage(message),
        logging.level,
      );
    default:
      return SILENT_LOGGER;
  }
}

expose(
  new WriterService({
    onRecoveryProgress: reportRecovery,
    onFeed: (records) => {
      const message: WriterFeedMessage = { kvdFeed: records };
      port.postMessage(message, [records.buffer as ArrayBuffer]);
    },
    logger: writerLogger((workerData as WriterInit | undefined)?.logging),
  }),
  nodeEndpoint(port as unknown as Parameters<typeof nodeEndpoint>[0]),
);
