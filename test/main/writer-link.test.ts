// Tests for the caller's link to a real writer thread (src/main/writer-link.ts): writes travel
// outside comlink (WriteRequestMessage / WriteAnswerMessage) yet keep their order among
// comlink's calls, each answer reaches its own write, and a thread that dies rejects every
// write still unanswered and every later one.

import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { WriterLink } from '../../dist/main/writer-link.js';
import type { KvError } from '../../dist/shared/errors.js';
import { SILENT_LOGGER } from '../../dist/shared/logger.js';
import {
  WRITE_OK,
  WRITE_OK_EXISTED,
  type WriteReply,
  type WriterConfig,
} from '../../dist/shared/messages.js';
import { removeTempDirs, submission, tempDir } from '../workers/worker-harness.js';

afterEach(removeTempDirs);

const config = (dir: string): WriterConfig => ({
  dir,
  durability: 'always',
  segmentBytes: 1 << 20,
  hashBits: 32,
});

/** Sends one submission of puts `key<i>` = `value` for i in [from, to). */
function putRange(link: WriterLink, from: number, to: number, value: string): Promise<WriteReply> {
  const ops = [];
  for (let i = from; i < to; i++) ops.push({ put: `key${i}`, value });
  const { buffer, length } = submission(ops);
  return link.write(buffer, length);
}

/** The link's thread, to end it as a crash would (not through `terminate`, which expects it). */
const threadOf = (link: WriterLink): Worker => (link as unknown as { thread: Worker }).thread;

describe('WriterLink: writes beside comlink', () => {
  it('answers each write with its own outcomes, in order with comlink calls', async () => {
    const dir = await tempDir('writer-link');
    const link = new WriterLink(() => {}, { to: 'none' }, SILENT_LOGGER);
    try {
      await link.open(config(dir));
      // Not awaited: the stats call after them must still see every record.
      const first = putRange(link, 0, 3, 'a');
      const second = putRange(link, 2, 7, 'b');
      const third = putRange(link, 100, 101, 'c');
      const stats = await link.stats();
      expect(stats.writes).toBe(9);
      expect([...(await first).outcomes]).toEqual([WRITE_OK, WRITE_OK, WRITE_OK]);
      expect([...(await second).outcomes]).toEqual([
        WRITE_OK_EXISTED,
        WRITE_OK,
        WRITE_OK,
        WRITE_OK,
        WRITE_OK,
      ]);
      expect([...(await third).outcomes]).toEqual([WRITE_OK]);
      // A write sent just before close is answered before close resolves.
      let answered = false;
      const last = putRange(link, 0, 1, 'd').then((reply) => {
        answered = true;
        return reply;
      });
      await link.close();
      expect(answered).toBe(true);
      expect([...(await last).outcomes]).toEqual([WRITE_OK_EXISTED]);
    } finally {
      await link.terminate();
    }
  });

  it('rejects unanswered writes and later ones with KV_INTERNAL when the thread dies', async () => {
    const dir = await tempDir('writer-link-death');
    const deaths: KvError[] = [];
    const link = new WriterLink((error) => deaths.push(error), { to: 'none' }, SILENT_LOGGER);
    // Sent before the thread has even loaded its code, so neither can be answered.
    const pending = [putRange(link, 0, 2, 'a'), putRange(link, 2, 4, 'b')];
    const opening = link.open(config(dir));
    await threadOf(link).terminate();
    for (const write of pending) {
      await expect(write).rejects.toMatchObject({ code: 'KV_INTERNAL' });
    }
    await expect(opening).rejects.toMatchObject({ code: 'KV_INTERNAL' });
    await expect(putRange(link, 4, 5, 'c')).rejects.toMatchObject({
      code: 'KV_INTERNAL',
      message: expect.stringMatching(/writer thread exited/),
    });
    expect(deaths).toHaveLength(1);
  });
});
