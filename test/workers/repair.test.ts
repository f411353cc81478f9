// Repair (src/workers/repair.ts), driven through WriterService.open({ repair: true }) on the
// test thread: every intact record of every segment is kept, each damaged stretch is saved to
// a `.damaged-<offset>` file and reported with the keys it held, a batch with a damaged member
// is set aside whole, a segment with an unreadable header is set aside, hints and the index
// snapshot are rebuilt, and a store with nothing wrong is left as it is.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { expectRecoveryError, name } from './recovery-harness.js';
import { OpenWriter, removeTempDirs, tempDir } from './worker-harness.js';

afterEach(removeTempDirs);

const HEADER = 32;
const RECORD_HEADER = 32;

/** Writes one record per submission into 100-byte segments (one record each); returns the dir. */
async function storeOf(label: string, writes: Parameters<OpenWriter['write']>[0][]) {
  const dir = await tempDir(label);
  const w = await OpenWriter.open(dir, { segmentBytes: 100 });
  for (const ops of writes) await w.write(ops);
  await w.close();
  return dir;
}

/** Flips a bit of byte `offset` of segment `id`; returns the damaged file's bytes. */
function flip(dir: string, id: number, offset: number): Buffer {
  const path = join(dir, name(id));
  const bytes = readFileSync(path);
  bytes[offset]! ^= 0x20;
  writeFileSync(path, bytes);
  return bytes;
}

describe('repair', () => {
  it('salvages every intact record, saves each damaged stretch aside and names the lost keys', async () => {
    const dir = await storeOf('repair-basic', [
      [{ put: 'a', value: 'alpha' }],
      [{ put: 'b', value: 'bravo' }],
      [{ put: 'c', value: 'charlie' }],
      [{ put: 'd', value: 'delta' }],
      [{ put: 'e', value: 'echo' }],
    ]);
    // Damage the values of b (sealed segment 2) and e (the last segment): both fail open.
    const seg2 = flip(dir, 2, HEADER + RECORD_HEADER + 3);
    flip(dir, 5, HEADER + RECORD_HEADER + 1);
    expectRecoveryError(dir, 'KV_CORRUPTION');
    const w = await OpenWriter.open(dir, { repair: true, segmentBytes: 100 });
    try {
      const report = w.opened.repair!;
      expect(report.segmentsChecked).toBe(5);
      expect(report.segmentsRepaired).toBe(2);
      expect(report.setAside).toEqual([]);
      expect(report.damaged.map((d) => [d.file, d.offset])).toEqual([
        [name(2), HEADER],
        [name(5), HEADER],
      ]);
      // The damaged records' keys, read from their (unverified) headers.
      expect(report.lostKeys).toEqual([
        'b (as the damaged header reads)',
        'e (as the damaged header reads)',
      ]);
      // The damaged bytes are kept, exactly: b's record, up to the sync mark after it.
      const saved2 = report.damaged[0]!;
      expect(saved2.savedTo).toBe(join(dir, `${name(2)}.damaged-${HEADER}`));
      expect(saved2.bytes).toBe(RECORD_HEADER + 1 + 'bravo'.length);
      expect(readFileSync(saved2.savedTo)).toEqual(seg2.subarray(HEADER, HEADER + saved2.bytes));
      expect([w.get('a'), w.get('b'), w.get('c'), w.get('d'), w.get('e')]).toEqual([
        'alpha',
        undefined,
        'charlie',
        'delta',
        undefined,
      ]);
      // Hints for every sealed segment and a fresh snapshot were written.
      const names = readdirSync(dir);
      expect(names).toContain('INDEX-SNAPSHOT');
      for (const id of [1, 2, 3, 4]) expect(names).toContain(`${String(id).padStart(6, '0')}.hint`);
      await w.write([{ put: 'f', value: 'foxtrot' }]);
    } finally {
      await w.close();
    }
    // The repaired store opens normally, and again without its snapshot (every segment scanned).
    const again = await OpenWriter.open(dir, { segmentBytes: 100 });
    try {
      expect([again.get('a'), again.get('c'), again.get('f')]).toEqual([
        'alpha',
        'charlie',
        'foxtrot',
      ]);
    } finally {
      await again.close();
    }
  });

  it('sets a batch with a damaged member aside whole, naming every key it held', async () => {
    const dir = await tempDir('repair-batch');
    const w = await OpenWriter.open(dir);
    await w.write([{ put: 'x', value: 'x0' }]);
    await w.write([
      {
        batch: [
          { put: 'x', value: 'x1' },
          { put: 'y', value: 'y1' },
          { put: 'z', value: 'z1' },
        ],
      },
    ]);
    await w.write([{ put: 'after', value: 'kept' }]);
    await w.close();
    // The batch's second record (y) starts after x0 and x1.
    const xLen = RECORD_HEADER + 1 + 2;
    flip(dir, 1, HEADER + 2 * xLen + RECORD_HEADER + 1);
    expectRecoveryError(dir, 'KV_CORRUPTION');
    const r = await OpenWriter.open(dir, { repair: true });
    try {
      const report = r.opened.repair!;
      expect(report.damaged).toHaveLength(1);
      expect(report.damaged[0]!.offset).toBe(HEADER + xLen);
      expect(report.lostKeys).toEqual(expect.arrayContaining(['x', 'z']));
      // All or nothing: x keeps its value from before the batch, y and z never appear.
      expect([r.get('x'), r.get('y'), r.get('z'), r.get('after')]).toEqual([
        'x0',
        undefined,
        undefined,
        'kept',
      ]);
    } finally {
      await r.close();
    }
  });

  it('sets aside a segment whose header cannot be read, listing the keys in it', async () => {
    const dir = await storeOf('repair-header', [
      [{ put: 'a', value: 'alpha' }],
      [{ put: 'b', value: 'bravo' }],
      [{ put: 'c', value: 'charlie' }],
    ]);
    flip(dir, 2, 0); // the magic
    expectRecoveryError(dir, 'KV_CORRUPTION');
    const w = await OpenWriter.open(dir, { repair: true, segmentBytes: 100 });
    try {
      const report = w.opened.repair!;
      expect(report.setAside).toEqual([join(dir, `${name(2)}.damaged`)]);
      expect(report.lostKeys).toEqual(['b']);
      expect(existsSync(join(dir, name(2)))).toBe(false);
      expect([w.get('a'), w.get('b'), w.get('c')]).toEqual(['alpha', undefined, 'charlie']);
    } finally {
      await w.close();
    }
  });

  it('leaves a store with nothing wrong as it was, and reports nothing lost', async () => {
    const dir = await storeOf('repair-clean', [
      [{ put: 'a', value: 'alpha' }],
      [{ put: 'b', value: 'bravo' }],
    ]);
    const before = readdirSync(dir)
      .filter((n) => n.endsWith('.log'))
      .map((n) => readFileSync(join(dir, n)).toString('hex'));
    const w = await OpenWriter.open(dir, { repair: true, segmentBytes: 100 });
    try {
      expect(w.opened.repair).toMatchObject({ segmentsRepaired: 0, damaged: [], lostKeys: [] });
      expect([w.get('a'), w.get('b')]).toEqual(['alpha', 'bravo']);
    } finally {
      await w.close();
    }
    const after = readdirSync(dir)
      .filter((n) => n.endsWith('.log'))
      .map((n) => readFileSync(join(dir, n)).toString('hex'));
    // Only the last segment may differ: close appended its sync mark again after the repair.
    expect(after.slice(0, -1)).toEqual(before.slice(0, -1));
  });
});
