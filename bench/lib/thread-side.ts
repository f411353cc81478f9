// Owns the worker side of the start-together protocol: say ready, wait for "go", measure,
// clean up, send the measurement (or the failure). Entry files pass in their parentPort.

import type { MessagePort } from 'node:worker_threads';
import type { Measurement } from './measure.js';
import type { FromThread, ToThread } from './thread-messages.js';

/** Runs `measure` when the main thread says go, then `close`, then reports. */
export function serveMeasurement(
  port: MessagePort,
  measure: () => Measurement,
  close: () => unknown,
): void {
  const send = (message: FromThread): void => port.postMessage(message);
  port.once('message', (message: ToThread) => {
    if (message.type !== 'go') return;
    void (async () => {
      try {
        const measurement = measure();
        await close();
        send({ type: 'done', measurement });
      } catch (error) {
        send({
          type: 'failed',
          message: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
      }
    })();
  });
  send({ type: 'ready' });
}
