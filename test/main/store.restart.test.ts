// Fast restart: open loads the index snapshot written at close (or periodically) and replays only
// the log after it; without a usable snapshot it loads hint files, and scans only segments
// without a usable hint. Every kind of doubt falls back, never to a wrong index: a damaged,
// cut-short or stale snapshot, one for another hash width, a damaged, missing or mismatched hint.
// A periodic snapshot followed by more writes and kill -9 replays the writes after it.

import {
  closeSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type StoreOptions, spawnStore } from '../../dist/main/index.js';
import {
  decodeSnapshot,
  encodeSnapshot,
  isSnapshotFailure,
} from '../../dist/shared/snapshot-format.js';
import { ChildLines, fixturePath } from '../fixtures/child-lines.js';
import { flipByte } from '../fixtures/file-bytes.js';
import { expectRejectsWith } from '../fixtures/kv-errors.js';
import { pollUntil } from '../fixtures/poll.js';
import { readSegment } from '../fixtures/segment-file.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const OPTIONS: StoreOptions = {
  readers: 1,
  segmentBytes: 4096,
  snapshotIntervalMs: 0,
  compaction: { auto: false, bytesPerSecond: 0 },
};
const SNAPSHOT = 'INDEX-SNAPSHOT';

afterEach(removeTempDirs);

type Model = Map<string, string>;

/** Automatic checks that write hint files but never merge (no trigger can fire, no sort). */
const HINTS_ONLY: StoreOptions = {
  ...OPTIONS,
  compaction: {
    auto: true,
    intervalMs: 10,
    triggerDeadRatio: 1,
    includeDeadRatio: 1,
    triggerDeadBytes: Number.MAX_SAFE_INTEGER,
    smallSegmentBytes: 0,
    sortSealed: false,
  },
};

/**
 * A store with a merged segment, sealed log segments, overwrites and deletes; every sealed
 * segment has its hint file, and a clean close wrote the snapshot.
 */
async function buildStore(label: string): Promise<{ dir: string; model: Model }> {
  const dir = await makeTempDir(label);
  const model: Model = new Map();
  const store = await Store.open(dir, HINTS_ONLY);
  try {
    for (let i = 0; i < 150; i++) {
      await store.set(`a${i}`, `first ${i}`.padEnd(50, '.'));
      model.set(`a${i}`, `first ${i}`.padEnd(50, '.'));
    }
    await store.compact(); // a sorted data segment: its own hint
    for (let i = 0; i < 150; i += 2) {
      await store.set(`a${i}`, `second ${i}`);
      model.set(`a${i}`, `second ${i}`);
    }
    for (let i = 1; i < 150; i += 10) {
      await store.delete(`a${i}`);
      model.delete(`a${i}`);
    }
    for (let i = 0; i < 100; i++) {
      await store.set(`b${i}`, `bee ${i}`.padEnd(60, '-'));
      model.set(`b${i}`, `bee ${i}`.padEnd(60, '-'));
    }
    await pollUntil(
      'every sealed segment has a hint file',
      async () => (await store.stats()).segments.every((x) => x.active || x.hinted),
      20_000,
    );
  } finally {
    await store.close();
  }
  return { dir, model };
}

async function openAndCheck(dir: string, model: Model, options: StoreOptions = OPTIONS) {
  const store = await Store.open(dir, options);
  try {
    const keys = [...model.keys()];
    const values = await store.getMany(keys);
    keys.forEach((k, i) => {
      expect(values[i]?.toString(), k).toBe(model.get(k));
    });
    for (let i = 1; i < 150; i += 10)
      expect(store.getSync(`a${i}`), `a${i} stays deleted`).toBeUndefined();
    const stats = await store.stats();
    expect(stats.keys).toBe(model.size);
    return stats;
  } finally {
    await store.close();
  }
}

const files = (dir: string, suffix: string) =>
  readdirSync(dir)
    .filter((n) => n.endsWith(suffix))
    .sort();

describe('index snapshot', () => {
  it('a clean close writes it; open restores every segment from it and replays nothing', async () => {
    const { dir, model } = await buildStore('snap');
    const stats = await openAndCheck(dir, model);
    expect(stats.recovery.restoredSegments).toBe(stats.segments.length);
    expect(stats.recovery.records).toBe(0);
    expect(stats.recovery.scannedSegments).toBe(1); // the active segment, from the snapshot's end on
  });

  it.each([
    ['a flipped byte in the slots', (p: string) => flipByte(p, readFileSync(p).length - 100, 0x20)],
    ['a flipped byte in the header', (p: string) => flipByte(p, 9, 0x20)],
    ['a cut-short file', (p: string) => truncateSync(p, readFileSync(p).length - 1)],
    ['an empty file', (p: string) => truncateSync(p, 0)],
  ])('with %s, open falls back to hints and scans and loses nothing', async (_, damage) => {
    const { dir, model } = await buildStore('snap-bad');
    damage(join(dir, SNAPSHOT));
    const stats = await openAndCheck(dir, model);
    expect(stats.recovery.restoredSegments).toBe(0);
    expect(stats.recovery.hintedSegments).toBeGreaterThan(0);
  });

  it('a stale snapshot (its segments compacted away since) is refused, not misread', async () => {
    const { dir, model } = await buildStore('snap-stale');
    const stale = readFileSync(join(dir, SNAPSHOT));
    const store = await Store.open(dir, OPTIONS);
    await store.compact();
    await store.close();
    // Put the old snapshot back: it names segments that no longer exist.
    const fd = openSync(join(dir, SNAPSHOT), 'w');
    writeSync(fd, stale);
    closeSync(fd);
    const stats = await openAndCheck(dir, model);
    expect(stats.recovery.restoredSegments).toBe(0);
  });

  it('a snapshot whose covered sequence does not match the log after it is refused', async () => {
    const { dir, model } = await buildStore('snap-seq');
    // Writes after the snapshot, as a crash after a periodic snapshot would leave them.
    const snapshot = decodeSnapshot(readFileSync(join(dir, SNAPSHOT)));
    if (isSnapshotFailure(snapshot)) throw new Error(snapshot.reason);
    const store = await Store.open(dir, OPTIONS);
    await store.set('after', 'the snapshot');
    await store.close();
    model.set('after', 'the snapshot');
    // The old snapshot, but claiming to cover more of the log than it does.
    const claimsMore = { ...snapshot, lastSeq: snapshot.lastSeq + 1 };
    writeFileSync(join(dir, SNAPSHOT), Buffer.concat(encodeSnapshot(claimsMore)));
    const refused = await openAndCheck(dir, model);
    expect(refused.recovery.restoredSegments).toBe(0);
    // The same old snapshot as written: accepted, and the write after it replayed.
    writeFileSync(join(dir, SNAPSHOT), Buffer.concat(encodeSnapshot(snapshot)));
    const accepted = await openAndCheck(dir, model);
    expect(accepted.recovery.restoredSegments).toBeGreaterThan(0);
    expect(accepted.recovery.records).toBe(1);
  });

  it('a snapshot whose tags another key hash made is refused, not read as every key absent', async () => {
    const { dir, model } = await buildStore('snap-hash');
    const snapshot = decodeSnapshot(readFileSync(join(dir, SNAPSHOT)));
    if (isSnapshotFailure(snapshot)) throw new Error(snapshot.reason);
    const otherHash = { ...snapshot, hashId: snapshot.hashId + 1 };
    writeFileSync(join(dir, SNAPSHOT), Buffer.concat(encodeSnapshot(otherHash)));
    const refused = await openAndCheck(dir, model);
    expect(refused.recovery.restoredSegments).toBe(0);
  });

  it('a snapshot of an index with another hash width is refused', async () => {
    const { dir, model } = await buildStore('snap-bits');
    const stats = await openAndCheck(dir, model, { ...OPTIONS, hashBits: 12 });
    expect(stats.recovery.restoredSegments).toBe(0);
  });

  it('with a snapshot, damage in a sealed segment is found by the read that meets it (KV_CORRUPTION)', async () => {
    const { dir } = await buildStore('snap-damage');
    const sealed = files(dir, '.log')[0]!;
    const { records } = readSegment(dir, sealed);
    const victim = records.find((r) => r.type === 1)!;
    flipByte(join(dir, sealed), victim.offset + victim.length - 1, 0x20);
    const store = await Store.open(dir, OPTIONS);
    try {
      expect((await store.stats()).recovery.restoredSegments).toBeGreaterThan(0);
      await expectRejectsWith(store.get(victim.key.toString()), 'KV_CORRUPTION');
    } finally {
      await store.close();
    }
  });

  it('a periodic snapshot, more writes, then kill -9: open restores the snapshot and replays the writes after it', async () => {
    const dir = await makeTempDir('snap-kill');
    const child = new ChildLines(process.execPath, [fixturePath('snapshot-writer.mjs'), dir]);
    const acked = new Map<string, string>();
    let acksAfterSnapshot = -1; // counting starts when the child has seen the snapshot file
    for (let line = await child.next(); line !== undefined; line = await child.next()) {
      if (line === 'snapshot') acksAfterSnapshot = 0;
      const [tag, key, value] = line.split(' ');
      if (tag === 'A') {
        acked.set(key!, value!);
        if (acksAfterSnapshot >= 0 && ++acksAfterSnapshot >= 400) child.kill('SIGKILL');
      }
    }
    expect((await child.exited).signal, child.stderr).toBe('SIGKILL');
    const store = await Store.open(dir, OPTIONS);
    try {
      const stats = await store.stats();
      expect(stats.recovery.restoredSegments).toBeGreaterThan(0);
      expect(stats.recovery.records, 'writes after the snapshot were replayed').toBeGreaterThan(0);
      // The child runs ahead of what this test has read: a key may hold a later write than the
      // last acknowledgement read here, never an earlier one (values are v<i>, i rising).
      for (const [k, v] of acked) {
        const got = store.getSync(k)?.toString();
        expect(got, k).toMatch(/^v\d+$/);
        expect(
          Number(got!.slice(1)),
          `${k}: ${got} is older than acknowledged ${v}`,
        ).toBeGreaterThanOrEqual(Number(v.slice(1)));
      }
    } finally {
      await store.close();
    }
  });
});

describe('recovery progress', () => {
  it('reports bytes processed, rising to the total of the segments, during open', async () => {
    const { dir, model } = await buildStore('progress');
    rmSync(join(dir, SNAPSHOT));
    const reports: [number, number][] = [];
    const store = await Store.open(dir, {
      ...OPTIONS,
      onRecoveryProgress: (done, total) => reports.push([done, total]),
    });
    try {
      const total = (await store.stats()).segments.reduce((n, s) => n + s.bytes, 0);
      expect(reports.length).toBeGreaterThan(2);
      expect(reports[0]).toEqual([0, total]);
      expect(reports.at(-1)).toEqual([total, total]);
      for (let i = 1; i < reports.length; i++) {
        expect(reports[i]![0]).toBeGreaterThanOrEqual(reports[i - 1]![0]);
      }
      expect((await store.getMany([...model.keys()])).length).toBe(model.size);
    } finally {
      await store.close();
    }
    await expectRejectsWith(
      spawnStore(dir, { onRecoveryProgress: () => {} }),
      'KV_INVALID_ARGUMENT',
    );
  });
});

describe('hint files', () => {
  it('without a snapshot, open loads each sealed segment from its hint', async () => {
    const { dir, model } = await buildStore('hints');
    rmSync(join(dir, SNAPSHOT));
    const stats = await openAndCheck(dir, model);
    // Log segments load from their hint files; sorted ones (merge output) are their own hint.
    expect(files(dir, '.sst').length).toBeGreaterThan(0);
    expect(stats.recovery.hintedSegments).toBe(
      files(dir, '.hint').length + files(dir, '.sst').length,
    );
    expect(stats.recovery.hintedSegments).toBe(stats.segments.length - 1);
    expect(stats.recovery.scannedSegments).toBe(1); // only the active segment
  });

  it.each([
    ['a flipped byte', (p: string) => flipByte(p, 40, 0x20)],
    ['a cut-short file', (p: string) => truncateSync(p, readFileSync(p).length - 3)],
    ['a missing file', (p: string) => rmSync(p)],
  ])('with %s, open scans that segment instead and loses nothing', async (_, damage) => {
    const { dir, model } = await buildStore('hint-bad');
    rmSync(join(dir, SNAPSHOT));
    const hints = files(dir, '.hint');
    damage(join(dir, hints[0]!));
    const stats = await openAndCheck(dir, model);
    expect(stats.recovery.hintedSegments).toBe(hints.length - 1 + files(dir, '.sst').length);
    expect(stats.recovery.scannedSegments).toBe(2); // that segment and the active one
  });

  it('a hint written for a different size of its segment is not trusted', async () => {
    const { dir, model } = await buildStore('hint-size');
    rmSync(join(dir, SNAPSHOT));
    const hint = files(dir, '.hint')[0]!;
    const other = files(dir, '.hint')[1];
    // Another segment's (valid) hint under this name: it names the wrong segment.
    if (other) {
      const fd = openSync(join(dir, hint), 'w');
      writeSync(fd, readFileSync(join(dir, other)));
      closeSync(fd);
      const stats = await openAndCheck(dir, model);
      expect(stats.recovery.scannedSegments).toBe(2);
    }
    expect(other, 'the store has two hinted segments').toBeDefined();
  });
});
