// Data segments (`NNNNNN.sst`) on one thread (the compaction worker and the writer run these in
// their own threads in production): a merge whose inputs include a data segment writes a new
// one holding the newest records; recovery replays data segments with and without their key
// run; repair keeps every intact entry of a damaged block, rebuilds a file whose footer or index
// is damaged, and sets aside one whose span cannot be known.

import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FOOTER_BYTES, isSortedFailure } from '../../dist/shared/sorted-format.js';
import { openSortedSegment } from '../../dist/shared/sorted-segment-reader.js';
import { Throttle } from '../../dist/shared/throttle.js';
import { mergeSegments } from '../../dist/workers/merge.js';
import { expectRecoveryError } from './recovery-harness.js';
import {
  expectValue,
  MERGE_EVERYTHING,
  OpenWriter,
  removeTempDirs,
  tempDir,
} from './worker-harness.js';

afterEach(removeTempDirs);

const KEYS = 300;
const key = (i: number) => `key-${String(i).padStart(4, '0')}`;
const unlimited = () => new Throttle(new SharedArrayBuffer(4), 0);

/** Merges every sealed segment of `w` into one data segment and installs it; returns its file. */
async function mergeAll(w: OpenWriter): Promise<string> {
  const plan = expectValue(await w.service.planCompaction(true, 0, 0xffffffff, MERGE_EVERYTHING))!;
  const result = mergeSegments(w.dir, w.index, plan, unlimited(), () => {});
  expectValue(await w.service.installCompaction(plan, result));
  return `${String(plan.outputId).padStart(6, '0')}.sst`;
}

/** A writer with KEYS keys merged into one data segment, then a fresh segment started. */
async function merged(label: string): Promise<{ dir: string; w: OpenWriter; sst: string }> {
  const dir = await tempDir(label);
  const w = await OpenWriter.open(dir, { segmentBytes: 4096 });
  for (let i = 0; i < KEYS; i++) await w.write([{ put: key(i), value: `v1-${i}` }]);
  await w.write([{ put: 'zz-seal', value: 'x'.repeat(4000) }]); // seals what came before
  const sst = await mergeAll(w);
  return { dir, w, sst };
}

function expectAll(w: OpenWriter, value: (i: number) => string | undefined, skip = -1): void {
  const wrong: string[] = [];
  for (let i = 0; i < KEYS; i++) {
    if (i !== skip && w.get(key(i)) !== value(i)) wrong.push(`${key(i)}=${w.get(key(i))}`);
  }
  expect(wrong).toEqual([]);
}

/** The file offset of `key(i)`'s entry: its key bytes, minus the entry's header before them. */
function keyOffset(bytes: Buffer, i: number): number {
  const at = bytes.indexOf(Buffer.from(`${key(i)}v`));
  expect(at).toBeGreaterThan(0);
  return at;
}

describe('data segments', () => {
  it('a merge that takes a data segment as input writes a new one with the newest records, and open replays it', async () => {
    const { dir, w, sst } = await merged('sst-remerge');
    const second = (i: number) => (i % 3 === 0 ? undefined : i % 2 ? `v2-${i}` : `v1-${i}`);
    try {
      for (let i = 1; i < KEYS; i += 2) await w.write([{ put: key(i), value: `v2-${i}` }]);
      for (let i = 0; i < KEYS; i += 3) await w.write([{ del: key(i) }]);
      await w.write([{ put: 'zz-seal', value: 'y'.repeat(4000) }]);
      const next = await mergeAll(w);
      expect(next).not.toBe(sst);
      expect(existsSync(join(dir, sst))).toBe(false);
      expectAll(w, second);
    } finally {
      await w.close();
    }
    rmSync(join(dir, 'INDEX-SNAPSHOT'), { force: true });
    for (const n of readdirSync(dir)) if (n.endsWith('.keys')) rmSync(join(dir, n));
    const reopened = await OpenWriter.open(dir, { segmentBytes: 4096 });
    try {
      expectAll(reopened, second);
      // Its key run was rebuilt from the walk.
      expect(readdirSync(dir).filter((n) => n.endsWith('.keys')).length).toBeGreaterThan(0);
    } finally {
      await reopened.close();
    }
  });

  it('repair keeps every intact entry of a damaged block and names the damaged one', async () => {
    const { dir, w, sst } = await merged('sst-repair');
    await w.close();
    rmSync(join(dir, 'INDEX-SNAPSHOT'), { force: true });
    const path = join(dir, sst);
    const bytes = readFileSync(path);
    bytes[keyOffset(bytes, 77) + key(77).length + 1]! ^= 0x08; // a byte of key-0077's value
    writeFileSync(path, bytes);
    expectRecoveryError(dir, 'KV_CORRUPTION');
    const r = await OpenWriter.open(dir, { repair: true, segmentBytes: 4096 });
    try {
      const report = r.opened.repair!;
      expect(report.damaged.map((d) => d.file)).toEqual([sst]);
      expect(report.lostKeys).toEqual([`${key(77)} (as the damaged entry reads)`]);
      expect(readFileSync(report.damaged[0]!.savedTo).length).toBeGreaterThan(0);
      expect(r.get(key(77))).toBeUndefined();
      expectAll(r, (i) => `v1-${i}`, 77);
    } finally {
      await r.close();
    }
  });

  it.each([
    ['index', (b: Buffer) => footerField(b, 0) + 2],
    ['footer', (b: Buffer) => b.length - FOOTER_BYTES + 40],
  ])('repair rebuilds a data segment whose %s is damaged, losing nothing', async (_, where) => {
    const { dir, w, sst } = await merged('sst-repair-meta');
    await w.close();
    const path = join(dir, sst);
    const bytes = readFileSync(path);
    bytes[where(bytes)]! ^= 0x01;
    writeFileSync(path, bytes);
    const r = await OpenWriter.open(dir, { repair: true, segmentBytes: 4096 });
    try {
      const report = r.opened.repair!;
      expect(report.damaged.map((d) => d.file)).toEqual([sst]);
      expect(report.lostKeys).toEqual([]);
      expect(report.setAside).toEqual([]);
      expectAll(r, (i) => `v1-${i}`);
      const rebuilt = openSortedSegment(readFileSync(path));
      expect(isSortedFailure(rebuilt)).toBe(false);
    } finally {
      await r.close();
    }
  });

  it('repair sets aside a data segment whose footer and key run are both gone, naming its keys', async () => {
    const { dir, w, sst } = await merged('sst-repair-aside');
    await w.close();
    const path = join(dir, sst);
    const bytes = readFileSync(path);
    bytes[bytes.length - 1]! ^= 0x01; // the magic
    writeFileSync(path, bytes);
    rmSync(join(dir, sst.replace('.sst', '.keys')));
    const r = await OpenWriter.open(dir, { repair: true, segmentBytes: 4096 });
    try {
      const report = r.opened.repair!;
      expect(report.setAside).toHaveLength(1);
      expect(report.lostKeys).toContain(key(0));
      expect(report.lostKeys).toContain(key(KEYS - 1));
      expect(existsSync(path)).toBe(false);
      expect(r.get(key(5))).toBeUndefined();
    } finally {
      await r.close();
    }
  });
});

/** The u64 at `at` of the footer of `bytes` (offset 0: the index block's offset). */
function footerField(bytes: Buffer, at: number): number {
  return Number(bytes.readBigUInt64LE(bytes.length - FOOTER_BYTES + at));
}
