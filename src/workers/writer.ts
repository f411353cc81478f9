// Entry point of the writer worker thread: exposes a WriterService over comlink on the
// worker's parent port, answers the writes that come outside comlink (WriteRequestMessage), and
// sends its log lines where workerData (WriterInit) says. This is the only file of the writer
// that touches parentPort.

import { parentPort, workerData } from 'node:worker_threads';
import { expose } from 'comlink';
import { nodeEndpointExcept } from '../shared/comlink-endpoint.js';
import { forwardingLogger } from '../shared/log-forwarding.js';
import { createLogger, type Logger, SILENT_LOGGER } from '../shared/logger.js';
import type {
  RecoveryProgressMessage,
  WriteAnswerMessage,
  WriteRequestMessage,
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

const service = new WriterService({
  onRecoveryProgress: reportRecovery,
  onFeed: (records) => {
    const message: WriterFeedMessage = { kvdFeed: records };
    port.postMessage(message, [records.buffer as ArrayBuffer]);
  },
  logger: writerLogger((workerData as WriterInit | undefined)?.logging),
});

/** Queues one request's records and posts its answer once they are appended (and synced). */
function answerWrite({ kvdWrite: id, records, length }: WriteRequestMessage): void {
  // write() reports failures in its reply; were it to reject (a bug), the unhandled rejection
  // would end the thread, and WriterLink rejects every write still unanswered.
  void service.write(records, length).then((reply) => {
    const answer: WriteAnswerMessage = { kvdWritten: id, reply };
    port.postMessage(answer);
  });
}

expose(
  service,
  nodeEndpointExcept(port as unknown as Parameters<typeof nodeEndpointExcept>[0], (data) => {
    const request = data as Partial<WriteRequestMessage> | null;
    if (request?.kvdWrite === undefined) return false;
    answerWrite(request as WriteRequestMessage);
    return true;
  }),
);
