// The writer's side of a hot backup, on this thread (the store runs it in the writer worker,
// where coverage does not reach): the capture turn links sealed segments with their hints and
// key runs, or copies every file when asked not to link, copies the active segment's prefix,
// and reports the log position; the staging directory opens as a store with exactly the writes
// made before the call. A staging directory that is missing fails with KV_IO, and a backup a
// close interrupts ends with KV_CLOSED or completes.

import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Throttle } from '../../dist/shared/throttle.js';
import { writeSegmentHint } from '../../dist/workers/segment-hint.js';
import { expectValue, expectVoid, OpenWriter, removeTempDirs, tempDir } from './worker-harness.js';

afterEach(removeTempDirs);

const unlimited = () => new Throttle(new SharedArrayBuffer(4), 0);

/** A writer with several sealed segments (all hinted, so each has a hint and a key run). */
async function writerWithSealedSegments(label: string) {
  const dir = await tempDir(label);
  const w = await OpenWriter.open(dir, { segmentBytes: 4096 });
  for (let i = 0; i < 200; i++)
    await w.write([{ put: `k${i % 50}`, value: `v${i}-${'x'.repeat(40)}` }]);
  await w.write([{ del: 'k7' }]);
  for (const s of expectValue(await w.service.unhintedSegments())) {
    writeSegmentHint(dir, s, unlimited());
    expectVoid(await w.service.hintWritten(s.id));
  }
  return { dir, w };
}

function expectSameValues(w: OpenWriter, copy: OpenWriter): void {
  for (let i = 0; i < 50; i++) expect(copy.get(`k${i}`), `k${i}`).toBe(w.get(`k${i}`));
}

describe('WriterService.backup', () => {
  for (const link of [true, false]) {
    it(`${link ? 'links sealed files' : 'copies every file'}, copies the active prefix, and the copy opens with the same values`, async () => {
      const { w } = await writerWithSealedSegments(`backup-${link}`);
      const staging = join(await tempDir(`backup-staging-${link}`), 'copy');
      mkdirSync(staging);
      try {
        const stats = await w.stats();
        const copied = expectValue(await w.service.backup({ staging, link, bytesPerSecond: 0 }));
        const names = readdirSync(staging).sort();
        expect(names.some((n) => n.endsWith('.hint'))).toBe(true);
        expect(names.some((n) => n.endsWith('.keys'))).toBe(true);
        expect(names).not.toContain('LOCK');
        expect(copied.files).toBe(names.length);
        expect(copied.linked + copied.copied).toBe(names.length);
        expect(copied.sequence).toBe(stats.lastSeq);
        const sealed = stats.segments.filter((s) => !s.active).length;
        if (link) {
          expect(copied.linked).toBeGreaterThanOrEqual(sealed);
          expect(copied.copied).toBe(1); // the active segment
        } else expect(copied.linked).toBe(0);
        for (const name of names) {
          const shared = statSync(join(staging, name)).nlink > 1;
          expect(shared, name).toBe(
            link && !name.startsWith(String(copied.activeSegment).padStart(6, '0')),
          );
        }
        const active = join(staging, `${String(copied.activeSegment).padStart(6, '0')}.log`);
        expect(statSync(active).size).toBe(copied.activeBytes);
        // Writes after the capture are not in the copy.
        await w.write([{ put: 'k1', value: 'after' }]);
        const copy = await OpenWriter.open(staging, { segmentBytes: 4096 });
        try {
          expect(copy.get('k1')).not.toBe('after');
          expect(copy.get('k7')).toBeUndefined();
          await w.write([{ put: 'k1', value: copy.get('k1')! }]);
          expectSameValues(w, copy);
        } finally {
          await copy.close();
        }
      } finally {
        await w.close();
      }
    });
  }

  it('fails with KV_IO when the staging directory is missing, and the writer goes on', async () => {
    const { dir, w } = await writerWithSealedSegments('backup-missing');
    try {
      const reply = await w.service.backup({
        staging: join(dir, 'no', 'such'),
        link: true,
        bytesPerSecond: 0,
      });
      expect(reply.ok).toBe(false);
      if (!reply.ok) expect(reply.error.code).toBe('KV_IO');
      await w.write([{ put: 'still', value: 'writing' }]);
      expect(w.get('still')).toBe('writing');
    } finally {
      await w.close();
    }
  });

  it('a close during the copy ends it with KV_CLOSED, or it completes first', async () => {
    const { w } = await writerWithSealedSegments('backup-close');
    const staging = join(await tempDir('backup-close-staging'), 'copy');
    mkdirSync(staging);
    const backup = w.service.backup({ staging, link: false, bytesPerSecond: 0 });
    await w.close();
    const reply = await backup;
    if (!reply.ok) expect(reply.error.code).toBe('KV_CLOSED');
    else expect(reply.value.files).toBeGreaterThan(0);
  });
});
