// Entry point of a reader pool worker (Piscina): serves getMany and has tasks from its own
// RecordReader (its own fds) over the shared index. Errors come back as values with their code.

import { workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { serializeError } from '../shared/errors.js';
import { IndexTable } from '../shared/index-table.js';
import type { ReaderInit, ReadReply, ReadTask } from '../shared/messages.js';
import { readKeysAt, readPresence, readValues, unpackKeys } from '../shared/read-batch.js';
import { RecordReader } from '../shared/record-reader.js';

const init = workerData as ReaderInit;
const reader = new RecordReader(init.dir, new IndexTable(init.index), init.readMode);
// An idle reader would otherwise keep retired segments' fds (and their disk space) until its
// next read: check once a second (one atomic load when nothing was retired).
setInterval(() => reader.sweep(), 1000).unref();

/** Piscina's task handler: one task carries many keys. */
export default function handle(task: ReadTask): ReadReply | ReturnType<typeof Piscina.move> {
  try {
    if (task.kind === 'keysAt')
      return Piscina.move(readKeysAt(reader, new Uint32Array(task.locations)));
    const keys = unpackKeys(task.keys);
    const data = task.kind === 'has' ? readPresence(reader, keys) : readValues(reader, keys);
    return Piscina.move(data);
  } catch (error) {
    return serializeError(error);
  }
}
