// Entry point of the writer worker thread: exposes a WriterService over comlink on the
// worker's parent port. This is the only file of the writer that touches parentPort.

import { parentPort } from 'node:worker_threads';
import { expose } from 'comlink';
import { nodeEndpoint } from '../shared/comlink-endpoint.js';
import type { RecoveryProgressMessage } from '../shared/messages.js';
import { WriterService } from './writer-service.js';

if (!parentPort) throw new Error('writer.ts must run as a worker thread');
const port = parentPort;
// Recovery is synchronous; postMessage still delivers each progress report right away.
const reportRecovery = (done: number, total: number) => {
  const message: RecoveryProgressMessage = { kvdRecoveryProgress: { done, total } };
  port.postMessage(message);
};
expose(
  new WriterService(reportRecovery),
  nodeEndpoint(port as unknown as Parameters<typeof nodeEndpoint>[0]),
);
