// Tests the codecs of hint files (src/shared/hint-format.ts) and index snapshots
// (src/shared/snapshot-format.ts): round trips, and that every single-byte change, a cut, or a
// file for another segment is refused rather than misread.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TYPE_DELETE, TYPE_PUT } from '../../dist/shared/format.js';
import {
  describeHintFailure,
  HINT_ENTRY_BYTES,
  HINT_HEADER_BYTES,
  HintBuilder,
  hintFileName,
  isHintFailure,
  parseHintFileName,
  readHint,
} from '../../dist/shared/hint-format.js';
import { KEY_HASH_ID } from '../../dist/shared/key-bytes.js';
import {
  decodeSnapshot,
  describeSnapshotFailure,
  encodeSnapshot,
  isSnapshotFailure,
  type Snapshot,
} from '../../dist/shared/snapshot-format.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

interface Entry {
  type: typeof TYPE_PUT | typeof TYPE_DELETE;
  key: string;
  offset: number;
  length: number;
  seq: number;
}

function build(entries: readonly Entry[], id = 7, size = 1 << 20): Uint8Array {
  const b = new HintBuilder();
  for (const e of entries) {
    const key = utf8(`xx${e.key}`); // a key inside a larger buffer
    b.add(e.type, key, 2, key.length - 2, e.offset, e.length, e.seq);
  }
  b.noteSeq(3);
  return b.finish(id, size).slice();
}

function entriesOf(bytes: Uint8Array, id = 7, size = 1 << 20): Entry[] {
  const hint = readHint(bytes, id, size);
  if (isHintFailure(hint)) throw new Error(describeHintFailure(hint));
  const out: Entry[] = [];
  hint.forEach((type, b, keyStart, keyLength, offset, length, seq) => {
    out.push({
      type,
      key: new TextDecoder().decode(b.subarray(keyStart, keyStart + keyLength)),
      offset,
      length,
      seq,
    });
  });
  return out;
}

const entry = fc.record({
  type: fc.constantFrom<typeof TYPE_PUT | typeof TYPE_DELETE>(TYPE_PUT, TYPE_DELETE),
  key: fc.string({ maxLength: 40 }),
  offset: fc.nat({ max: 500_000 }),
  length: fc.integer({ min: 32, max: 500_000 }),
  seq: fc.nat({ max: 2 ** 52 }),
});

describe('hint files', () => {
  it('round-trip any entries, in order, with the highest sequence number', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 30 }), (entries) => {
        const bytes = build(entries);
        expect(entriesOf(bytes)).toEqual(entries);
        const hint = readHint(bytes, 7, 1 << 20);
        if (isHintFailure(hint)) throw new Error(describeHintFailure(hint));
        expect(hint.entries).toBe(entries.length);
        expect(hint.maxSeq).toBe(Math.max(3, ...entries.map((e) => e.seq)));
      }),
    );
  });

  it('refuses every single-byte change, every cut, and a hint for another segment or size', () => {
    const bytes = build([
      { type: TYPE_PUT, key: 'alpha', offset: 32, length: 60, seq: 1 },
      { type: TYPE_DELETE, key: 'beta', offset: 92, length: 36, seq: 2 },
    ]);
    expect(bytes.length).toBe(HINT_HEADER_BYTES + 2 * HINT_ENTRY_BYTES + 9 + 4);
    for (let i = 0; i < bytes.length; i++) {
      const damaged = bytes.slice();
      damaged[i] ^= 0x01;
      expect(readHint(damaged, 7, 1 << 20), `byte ${i}`).toHaveProperty('reason');
    }
    for (let n = 0; n < bytes.length; n++) {
      expect(readHint(bytes.subarray(0, n), 7, 1 << 20), `cut at ${n}`).toHaveProperty('reason');
    }
    expect(readHint(bytes, 8, 1 << 20)).toEqual({ reason: 'wrong-segment', named: 7 });
    expect(readHint(bytes, 7, 100)).toEqual({
      reason: 'wrong-size',
      hintedSize: 1048576,
      fileSize: 100,
    });
    const failure = readHint(bytes, 7, 100);
    if (!isHintFailure(failure)) throw new Error('expected a failure');
    expect(describeHintFailure(failure)).toMatch(/for 1048576 bytes of segment, the file has 100/);
  });

  it('refuses entries that point past the segment, even with a valid checksum', () => {
    const bytes = build([{ type: TYPE_PUT, key: 'k', offset: 90, length: 20, seq: 1 }], 7, 100);
    expect(readHint(bytes, 7, 100)).toEqual({ reason: 'bad-entry', entry: 0 });
  });

  it('names files NNNNNN.hint and parses them back', () => {
    expect(hintFileName(12)).toBe('000012.hint');
    expect(parseHintFileName('000012.hint')).toBe(12);
    expect(parseHintFileName('000012.hint.tmp')).toBeUndefined();
    expect(parseHintFileName('000012.log')).toBeUndefined();
  });
});

function snapshot(slots = 4): Snapshot {
  const bytes = new Uint8Array(slots * 16);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff;
  return {
    hashId: KEY_HASH_ID,
    hashBits: 32,
    capacity: slots,
    count: 2,
    deleted: 1,
    lastSeq: 2 ** 40 + 5,
    resumeId: 9,
    resumeFrom: 4096,
    segments: [
      {
        id: 3,
        handle: 1,
        kind: 1,
        first: 1,
        last: 2,
        size: 500,
        liveKeys: 1,
        hinted: true,
        liveBytes: 2 ** 33,
        tombstoneBytes: 40,
        expired: { bytes: 2 ** 34 + 1, keys: 7, keyBytes: 70 },
        expiring: [
          { second: 1_800_000_000, bytes: 100, keys: 2, keyBytes: 10 },
          { second: 1_800_000_005, bytes: 2 ** 35, keys: 3, keyBytes: 30 },
        ],
      },
      {
        id: 9,
        handle: 2,
        kind: 0,
        first: 9,
        last: 9,
        size: 4096,
        liveKeys: 1,
        hinted: false,
        liveBytes: 60,
        tombstoneBytes: 0,
        expired: { bytes: 0, keys: 0, keyBytes: 0 },
        expiring: [{ second: 1_800_000_001, bytes: 60, keys: 1, keyBytes: 3 }],
      },
    ],
    sweptAt: 1_799_999_999_123,
    slots: bytes,
  };
}

const concat = (pieces: Uint8Array[]) => Buffer.concat(pieces);

describe('index snapshots', () => {
  it('round-trip', () => {
    const s = snapshot();
    const decoded = decodeSnapshot(concat(encodeSnapshot(s)));
    expect(decoded).toEqual({ ...s, slots: expect.any(Uint8Array) });
    if (isSnapshotFailure(decoded)) throw new Error(describeSnapshotFailure(decoded));
    expect(Buffer.from(decoded.slots).equals(Buffer.from(s.slots))).toBe(true);
  });

  it('refuses every single-byte change and every cut', () => {
    const bytes = concat(encodeSnapshot(snapshot()));
    for (let i = 0; i < bytes.length; i++) {
      const damaged = Buffer.from(bytes);
      damaged[i] ^= 0x80;
      expect(decodeSnapshot(damaged), `byte ${i}`).toHaveProperty('reason');
    }
    for (let n = 0; n < bytes.length; n++) {
      expect(decodeSnapshot(bytes.subarray(0, n)), `cut at ${n}`).toHaveProperty('reason');
    }
  });

  it('names the key hash that made its tags, and says which version it is when refused', () => {
    const bytes = concat(encodeSnapshot(snapshot()));
    expect(bytes.readUInt32LE(56)).toBe(KEY_HASH_ID);
    const older = Buffer.from(bytes);
    older.writeUInt16LE(2, 4);
    expect(decodeSnapshot(older)).toEqual({ reason: 'unsupported-version', version: 2 });
  });
});
