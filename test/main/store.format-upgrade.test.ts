// A store written before data segments: its merges wrote merged log segments (kind 1,
// `NNNNNN.log`). It opens as it is, every value readable, and its next merge rewrites that
// segment into a data segment (`NNNNNN.sst`) without losing or resurrecting anything. The old
// segment is laid out by hand from FORMAT.md ("Merged segments"): the code that wrote it is gone.

import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type StoreOptions } from '../../dist/main/index.js';
import {
  encodeRecord,
  encodeSegmentHeader,
  KIND_LOG,
  KIND_MERGED,
  TYPE_DELETE,
  TYPE_PUT,
} from '../../dist/shared/format.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

afterEach(removeTempDirs);

const OPTIONS: StoreOptions = { readers: 1, durability: 'no', compaction: { auto: false } };
const utf8 = new TextEncoder();
const LATER = Date.now() + 3_600_000;

function put(seq: number, key: string, value: string, expiresAt = 0): Uint8Array {
  return encodeRecord(TYPE_PUT, 0, seq, expiresAt, utf8.encode(key), utf8.encode(value));
}

function del(seq: number, key: string): Uint8Array {
  return encodeRecord(TYPE_DELETE, 0, seq, 0, utf8.encode(key), new Uint8Array(0));
}

/** Merged segment 3 (spanning log segments 1..2), then log segment 4 written after it. */
async function oldStore(): Promise<{ dir: string; expected: Map<string, string> }> {
  const dir = await makeTempDir('format-upgrade');
  const expected = new Map<string, string>();
  const merged: Uint8Array[] = [encodeSegmentHeader(3, KIND_MERGED, 1, 2)];
  for (let i = 0; i < 60; i++) {
    merged.push(put(i + 1, `k${i}`, `old-${i}`, i % 10 === 0 ? LATER : 0));
    expected.set(`k${i}`, `old-${i}`);
  }
  merged.push(del(70, 'gone-before')); // a tombstone the merge kept
  writeFileSync(join(dir, '000003.log'), Buffer.concat(merged));
  const log: Uint8Array[] = [encodeSegmentHeader(4, KIND_LOG)];
  log.push(put(80, 'k0', 'new-0'));
  expected.set('k0', 'new-0');
  log.push(del(81, 'k1'));
  expected.delete('k1');
  log.push(put(82, 'fresh', 'after the merge'));
  expected.set('fresh', 'after the merge');
  writeFileSync(join(dir, '000004.log'), Buffer.concat(log));
  return { dir, expected };
}

function contents(store: Store): Map<string, string> {
  const out = new Map<string, string>();
  for (const { key, value } of store.rangeSync()) out.set(key.toString(), value.toString());
  return out;
}

describe('a store from before data segments', () => {
  it('opens, reads every value, and its next merge rewrites the merged log segment as a data segment', async () => {
    const { dir, expected } = await oldStore();
    const store = await Store.open(dir, OPTIONS);
    try {
      expect(contents(store)).toEqual(expected);
      expect(store.expirySync('k10')).toBe(LATER);
      const before = await store.stats();
      expect(before.segments.find((s) => s.id === 3)).toMatchObject({
        file: '000003.log',
        merged: true,
      });
      await store.compact();
      const after = await store.stats();
      expect(after.segments.filter((s) => !s.active).map((s) => s.file)).toEqual([
        expect.stringMatching(/^\d{6}\.sst$/),
      ]);
      expect(readdirSync(dir).filter((n) => n.endsWith('.log')).length).toBe(1); // the active one
      expect(contents(store)).toEqual(expected);
      expect(store.getSync('gone-before')).toBeUndefined();
      expect(store.expirySync('k10')).toBe(LATER);
      expect(after.lastSeq).toBeGreaterThanOrEqual(82);
    } finally {
      await store.close();
    }
    const reopened = await Store.open(dir, OPTIONS);
    try {
      expect(contents(reopened)).toEqual(expected);
      await reopened.set('k1', 'written again');
      expect(reopened.getSync('k1')?.toString()).toBe('written again');
    } finally {
      await reopened.close();
    }
  });
});
