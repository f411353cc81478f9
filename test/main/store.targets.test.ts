// Tests Store.getFor and Store.setFor, the daemon's promise-free GET and SET: the same values,
// batches and errors as get and set, reported to the target exactly once, and a refused write
// leaves nothing behind.

import { afterEach, describe, expect, it } from 'vitest';
import {
  type ReadTarget,
  Store,
  type StoreOptions,
  type WriteTarget,
} from '../../dist/main/index.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

/** Batches of up to 2 keys are read inline, bigger ones by the one reader thread. */
const OPTIONS: StoreOptions = {
  readers: 1,
  inlineReadKeys: 2,
  maxKeyBytes: 16,
  maxValueBytes: 64,
  compaction: { auto: false },
};

/** A target that records every call it gets; `called` resolves at the first. */
class Recorder implements ReadTarget, WriteTarget {
  readonly calls: string[] = [];
  readonly called: Promise<void>;
  private wake: () => void = () => {};
  constructor(readonly readKey: string | Buffer = '') {
    this.called = new Promise((resolve) => {
      this.wake = resolve;
    });
  }
  readDone(value: Buffer | undefined): void {
    this.record(value === undefined ? 'read:absent' : `read:${value.toString()}`);
  }
  readFailed(error: unknown): void {
    this.record(`readFailed:${(error as { code?: string }).code}`);
  }
  writeDone(): void {
    this.record('written');
  }
  writeFailed(error: unknown): void {
    this.record(`writeFailed:${(error as { code?: string }).code}`);
  }
  private record(call: string): void {
    this.calls.push(call);
    this.wake();
  }
}

async function settled(...targets: Recorder[]): Promise<void> {
  await Promise.all(targets.map((t) => t.called));
}

describe('Store.getFor and Store.setFor', () => {
  it('write and read like set and get, once per target', async () => {
    const store = await Store.open(await makeTempDir('targets'), OPTIONS);
    try {
      const w = new Recorder();
      store.setFor(w, Buffer.from('k1'), Buffer.from('v1'));
      await settled(w);
      expect(w.calls).toEqual(['written']);
      expect((await store.get('k1'))?.toString()).toBe('v1');

      const hit = new Recorder(Buffer.from('k1'));
      const miss = new Recorder('nope');
      store.getFor(hit);
      store.getFor(miss);
      await settled(hit, miss);
      expect(hit.calls).toEqual(['read:v1']);
      expect(miss.calls).toEqual(['read:absent']);
    } finally {
      await store.close();
    }
  });

  it('share one batch with the gets of the same turn', async () => {
    const store = await Store.open(await makeTempDir('targets'), OPTIONS);
    try {
      for (const k of ['a', 'b', 'c']) await store.set(k, `value ${k}`);
      const before = (await store.stats()).reads;
      const target = new Recorder('c');
      const gets = [store.get('a'), store.get('b')];
      store.getFor(target);
      expect((await Promise.all(gets)).map(String)).toEqual(['value a', 'value b']);
      await settled(target);
      expect(target.calls).toEqual(['read:value c']);
      // Three keys in one turn: more than inlineReadKeys, so the reader pool read all three.
      const after = (await store.stats()).reads;
      expect(after.pooled - before.pooled).toBe(3);
      expect(after.inline - before.inline).toBe(0);
    } finally {
      await store.close();
    }
  });

  it("report set's and get's errors, and a refused write stores nothing", async () => {
    const store = await Store.open(await makeTempDir('targets'), OPTIONS);
    const tooLongKey = Buffer.alloc(17, 0x61);
    const w1 = new Recorder();
    store.setFor(w1, Buffer.from('k'), Buffer.alloc(65));
    expect(w1.calls).toEqual(['writeFailed:KV_VALUE_TOO_LARGE']); // at once, nothing queued
    const w2 = new Recorder();
    store.setFor(w2, tooLongKey, Buffer.from('v'));
    expect(w2.calls).toEqual(['writeFailed:KV_KEY_TOO_LARGE']);
    const r1 = new Recorder(tooLongKey);
    store.getFor(r1);
    expect(r1.calls).toEqual(['readFailed:KV_KEY_TOO_LARGE']);
    expect(await store.get('k')).toBeUndefined();
    expect((await store.stats()).keys).toBe(0);

    await store.close();
    const w3 = new Recorder();
    store.setFor(w3, Buffer.from('k'), Buffer.from('v'));
    const r2 = new Recorder('k');
    store.getFor(r2);
    expect(w3.calls).toEqual(['writeFailed:KV_CLOSED']);
    expect(r2.calls).toEqual(['readFailed:KV_CLOSED']);
  });
});
