// Owns giving a large buffer's memory back as soon as its owner is done with it. An unreferenced
// ArrayBuffer is freed only by its thread's next garbage collection, and a thread that has gone
// idle (the writer once a burst of writes ends) runs none for as long as it stays idle: a merge's
// 17 MB move list stayed in the daemon's anonymous memory that way (bench/ANALYSIS.md, "A spent
// move list, kept by an idle writer").

import { MessageChannel } from 'node:worker_threads';

/**
 * Detaches `buffer` now (every view of it becomes empty) and frees its memory within a few
 * event-loop iterations, not at a garbage collection: it is transferred into a message channel
 * that is closed at once, and cleaning up the closed ports drops the message and the memory.
 * The caller must hold the only live use of the buffer. A SharedArrayBuffer, or a buffer
 * already detached, is left alone. Any thread.
 */
export function releaseBuffer(buffer: ArrayBufferLike): void {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) return;
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(null, [buffer]);
  port1.close();
  port2.close();
}
