// Scenario "anchor": bare fs.readSync of 100 B at random offsets of a 128 MiB file in the
// page cache, on this thread and on N worker threads: the ceiling of kvd's read design
// (one pread per get), against which every get figure can be read.

import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { prng, probeOffsets } from '../lib/dataset.js';
import { type Measurement, measureSync } from '../lib/measure.js';
import { figureId, type Scenario } from '../lib/scenario.js';
import type { PreadJob } from '../lib/thread-messages.js';
import { measureInThreads, sumThreads } from '../lib/threads.js';

const FILE_BYTES = 128 * 1024 * 1024;
const READ_BYTES = 100;

export const scenario: Scenario = {
  id: 'anchor',
  title: `bare fs.readSync of ${READ_BYTES} B at random offsets (page cache)`,
  async run({ config, temp }, out) {
    const dir = temp.dir('anchor');
    const path = join(dir, 'random.bin');
    writeRandomFile(path, FILE_BYTES);
    try {
      const fd = openSync(path, 'r');
      const offsets = probeOffsets(FILE_BYTES, READ_BYTES, 1);
      const mask = offsets.length - 1;
      const buffer = Buffer.allocUnsafe(READ_BYTES);
      let one: Measurement;
      try {
        one = measureSync(
          (i) => (readSync(fd, buffer, 0, READ_BYTES, offsets[i & mask]!) === READ_BYTES ? 1 : 0),
          {
            timeMs: config.timeMs,
          },
        );
      } finally {
        closeSync(fd);
      }
      const base = { engine: 'fs', unit: 'reads/s', better: 'higher' } as const;
      out.measured(
        {
          ...base,
          id: figureId('anchor', undefined, 'fs', 'pread.1'),
          label: 'readSync, 1 thread',
          how: 'main thread, reused buffer',
        },
        one,
      );
      const jobs: PreadJob[] = Array.from({ length: config.clients }, (_, w) => ({
        path,
        fileBytes: FILE_BYTES,
        readBytes: READ_BYTES,
        timeMs: config.timeMs,
        seed: 100 + w,
      }));
      const parts = await measureInThreads(
        new URL('../workers/pread-worker.js', import.meta.url),
        jobs,
      );
      out.measured(
        {
          ...base,
          id: figureId('anchor', undefined, 'fs', 'pread.threads'),
          label: `readSync, ${config.clients} worker threads`,
          how: 'sum of per-thread rates',
        },
        sumThreads(parts),
      );
      out.note(
        `file of ${FILE_BYTES / 2 ** 20} MiB written just before, so every read is a page-cache hit`,
      );
    } finally {
      temp.remove(dir);
    }
  },
};

function writeRandomFile(path: string, bytes: number): void {
  const next = prng(7);
  const chunk = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, 'w');
  try {
    for (let done = 0; done < bytes; done += chunk.length) {
      for (let at = 0; at < chunk.length; at += 4) chunk.writeUInt32LE(next(), at);
      writeSync(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
}
