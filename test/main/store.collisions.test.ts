// Forced fingerprint collisions: with hashBits 3 every key shares its index tag with a sixth
// of all keys, so only the key bytes read back from disk can tell them apart. Thousands of
// keys, overwrites, deletes and a reopen must still give every answer right, read one at a
// time and in batches (a getMany on the caller's thread and in the reader pool, one turn's gets).

import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const KEYS = 2500;
const OPTIONS = { hashBits: 3, readers: 1, durability: 'no', segmentBytes: 64 * 1024 } as const;

/** Key i: mostly ASCII strings, every seventh non-ASCII, every fifth passed as bytes. */
function keyText(i: number): string {
  return i % 7 === 0 ? `ключ-${i}` : `key-${i}`;
}
function key(i: number): string | Uint8Array {
  return i % 5 === 0 ? new Uint8Array(Buffer.from(keyText(i))) : keyText(i);
}

async function verify(store: Store, model: Map<number, string>, when: string): Promise<void> {
  const all = Array.from({ length: KEYS }, (_, i) => i);
  for (let from = 0; from < KEYS; from += 500) {
    const ids = all.slice(from, from + 500);
    const values = await store.getMany(ids.map(key));
    ids.forEach((i, n) => {
      expect(values[n]?.toString(), `${when}: getMany ${keyText(i)}`).toBe(model.get(i));
    });
  }
  for (const i of all) {
    // getSync with the other key form: a string key and its bytes are the same key.
    const other = typeof key(i) === 'string' ? Buffer.from(keyText(i)) : keyText(i);
    expect(store.getSync(other)?.toString(), `${when}: getSync ${keyText(i)}`).toBe(model.get(i));
  }
  // Every key in one getMany: more than `inlineReadKeys` (1,024), so the reader pool reads it.
  const pooled = await store.getMany(all.map(key));
  for (const i of all) {
    expect(pooled[i]?.toString(), `${when}: pooled getMany ${keyText(i)}`).toBe(model.get(i));
  }
  // One turn's gets, read together as one batch (hashed a group of keys ahead). The getSync of a
  // string key first leaves that key's bytes in the reader's scratch (KeyScratch): each batched
  // get must compare its own key, not the one held.
  expect(store.getSync(keyText(3))?.toString(), `${when}: getSync key-3`).toBe(model.get(3));
  const sample = all.filter((i) => i % 11 === 0);
  const got = await Promise.all(sample.map((i) => store.get(key(i))));
  sample.forEach((i, n) => {
    expect(got[n]?.toString(), `${when}: get in a batch ${keyText(i)}`).toBe(model.get(i));
  });
  for (let i = 0; i < KEYS; i += 97) {
    expect(await store.has(key(i)), `${when}: has ${keyText(i)}`).toBe(model.has(i));
    expect((await store.get(key(i)))?.toString(), `${when}: get ${keyText(i)}`).toBe(model.get(i));
  }
  // Keys never written share tags with written ones: they must read as absent.
  const strangers = Array.from({ length: 200 }, (_, i) => `stranger-${i}`);
  expect(await store.getMany(strangers)).toEqual(strangers.map(() => undefined));
  expect((await store.stats()).keys, `${when}: stats().keys`).toBe(model.size);
}

describe('Store with forced hash collisions (hashBits 3)', () => {
  afterEach(removeTempDirs);

  it('keeps every key apart through inserts, overwrites, deletes and reopen', async () => {
    const dir = await makeTempDir('collide');
    const model = new Map<number, string>();
    let store = await Store.open(dir, OPTIONS);
    try {
      // Inserts, 100 per tick (one writer message each).
      for (let from = 0; from < KEYS; from += 100) {
        const writes: Promise<void>[] = [];
        for (let i = from; i < Math.min(KEYS, from + 100); i++) {
          model.set(i, `v0-${i}`);
          writes.push(store.set(key(i), `v0-${i}`));
        }
        await Promise.all(writes);
      }
      await verify(store, model, 'after inserts');

      // Overwrite every third key, delete every fifth (and some keys that never existed).
      const writes: Promise<unknown>[] = [];
      const deletes: [number, Promise<boolean>][] = [];
      for (let i = 0; i < KEYS; i++) {
        if (i % 3 === 0) {
          model.set(i, `v1-${i}`);
          writes.push(store.set(key(i), `v1-${i}`));
        }
        if (i % 5 === 0) {
          deletes.push([i, store.delete(keyText(i))]);
          model.delete(i);
        }
      }
      for (const [i, answer] of deletes) expect(await answer, `delete ${keyText(i)}`).toBe(true);
      await Promise.all(writes);
      for (let n = 0; n < 50; n++) expect(await store.delete(`never-${n}`)).toBe(false);
      await verify(store, model, 'after overwrites and deletes');

      // A batch that reinserts deleted keys and deletes live ones.
      const ops = [];
      for (let i = 0; i < KEYS; i += 10) {
        ops.push({ type: 'set' as const, key: key(i), value: `v2-${i}` });
        model.set(i, `v2-${i}`);
        ops.push({ type: 'delete' as const, key: key(i + 1) });
        model.delete(i + 1);
      }
      await store.batch(ops);
      await verify(store, model, 'after the batch');

      await store.close();
      store = await Store.open(dir, OPTIONS);
      expect((await store.stats()).segments.length).toBeGreaterThan(1);
      await verify(store, model, 'after reopen');

      // Writes after recovery still verify stored keys before overwriting a slot.
      for (let i = 1; i < KEYS; i += 2) model.set(i, `v3-${i}`);
      await Promise.all(
        Array.from({ length: KEYS / 2 }, (_, n) => store.set(key(2 * n + 1), `v3-${2 * n + 1}`)),
      );
      await verify(store, model, 'after writes following reopen');
    } finally {
      await store.close();
    }
  }, 120_000);
});
