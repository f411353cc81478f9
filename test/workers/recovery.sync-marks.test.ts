// Recovery's rule for the last segment (FORMAT.md, "Recovery"): bytes a sync mark (or an index
// snapshot's resume point) says were synced cannot be a torn write, so damage there fails open
// with KV_CORRUPTION naming the file, the offset and the valid records after it; only what lies
// past the last synced byte may be cut as a torn tail, and valid records among the cut bytes
// are counted and reported. Also: the writer's own marks, and a format-2 last segment.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { crc32c } from '../../dist/shared/crc32c.js';
import {
  encodeSegmentHeader,
  encodeSyncMark,
  SYNC_MARK_BYTES,
  scanRecord,
  syncMarkValue,
  TYPE_SYNC_MARK,
} from '../../dist/shared/format.js';
import { expectRecoveryError, name, withRecovery, writeSegments } from './recovery-harness.js';
import { OpenWriter, rec, removeTempDirs, segment, tempDir } from './worker-harness.js';

afterEach(removeTempDirs);

const HEADER = 32;

/** Five puts, a sync mark saying the first three were synced, then two more puts. */
function markedSegment(): { bytes: Buffer; recs: Uint8Array[]; markAt: number } {
  const recs = [1, 2, 3].map((i) => rec(i, 'put', `k${i}`, `value-${i}`));
  const synced = HEADER + recs.reduce((n, r) => n + r.length, 0);
  const mark = encodeSyncMark(4, synced);
  const after = [5, 6].map((i) => rec(i, 'put', `k${i}`, `value-${i}`));
  return {
    bytes: segment(1, [...recs, mark, ...after]),
    recs: [...recs, mark, ...after],
    markAt: synced,
  };
}

describe('recover: torn tail or damage in the last segment', () => {
  it('refuses damage before the last synced byte, naming file, offset and the records after it', async () => {
    const dir = await tempDir('marks-damage');
    const { bytes, recs } = markedSegment();
    const second = HEADER + recs[0]!.length;
    bytes[second + 40] ^= 0x01; // inside k2's record: synced, says the mark after it
    writeSegments(dir, { 1: bytes });
    const before = readFileSync(join(dir, name(1)));
    const error = expectRecoveryError(dir, 'KV_CORRUPTION');
    expect(error.message).toContain(`${name(1)} at offset ${second}`);
    // k3, the mark, k5, k6 follow the damaged record.
    expect(error.message).toMatch(/4 valid records follow/);
    expect(error.message).toMatch(/synced through byte/);
    // Nothing was cut or saved aside: the damage is reported, the bytes are untouched.
    expect(readFileSync(join(dir, name(1)))).toEqual(before);
    expect(readdirSync(dir).filter((n) => n.includes('torn'))).toEqual([]);
  });

  it('refuses damage before a mark found only past the damage (the scan looks beyond it)', async () => {
    const dir = await tempDir('marks-damage-lookahead');
    const { bytes } = markedSegment();
    bytes[HEADER + 5] ^= 0x10; // the first record's type byte area: the scan stops at once
    writeSegments(dir, { 1: bytes });
    const error = expectRecoveryError(dir, 'KV_CORRUPTION');
    expect(error.message).toContain(`${name(1)} at offset ${HEADER}`);
    expect(error.message).toMatch(/5 valid records follow/);
  });

  it('cuts damage past the last synced byte as a torn tail, counting the valid records cut with it', async () => {
    const dir = await tempDir('marks-torn');
    const { bytes, recs, markAt } = markedSegment();
    const k5At = markAt + SYNC_MARK_BYTES;
    bytes[k5At + 40] ^= 0x01; // k5 was written after the last sync the mark reports
    writeSegments(dir, { 1: bytes });
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    withRecovery(
      dir,
      ({ result, get }) => {
        expect(result.tornTail).toEqual({
          file: name(1),
          offset: k5At,
          bytes: bytes.length - k5At,
          recordsAfter: 1, // k6, whole and valid, written after the torn k5
          savedTo: join(dir, `${name(1)}.torn-${k5At}`),
        });
        expect(result.truncatedBytes).toBe(bytes.length - k5At);
        expect([get('k1'), get('k3'), get('k5'), get('k6')]).toEqual([
          'value-1',
          'value-3',
          undefined,
          undefined,
        ]);
        expect(result.lastSyncedThrough).toBe(markAt);
      },
      { log },
    );
    expect(readFileSync(join(dir, `${name(1)}.torn-${k5At}`))).toEqual(bytes.subarray(k5At));
    const warning = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(warning).toMatchObject({ file: name(1), offset: k5At, recordsAfter: 1 });
    expect(String(warning.msg)).toMatch(/1 whole, valid records were among the cut bytes/);
    expect(recs).toHaveLength(6);
  });

  it('counts a zeroed stretch before the synced byte as damage, not preallocated space', async () => {
    const dir = await tempDir('marks-zeros');
    const { bytes, recs } = markedSegment();
    const second = HEADER + recs[0]!.length;
    // Everything from k2 on reads as zeros but the file is as long as before: a lost page.
    bytes.fill(0, second);
    const claim = encodeSyncMark(9, bytes.length);
    writeSegments(dir, { 1: Buffer.concat([bytes, claim]) });
    expectRecoveryError(dir, 'KV_CORRUPTION');
    // The same zeros past every claim are preallocated space: trimmed silently.
    const dir2 = await tempDir('marks-zeros-tail');
    writeSegments(dir2, { 1: bytes });
    withRecovery(dir2, ({ result, get }) => {
      expect(result.tornTail).toBeUndefined();
      expect(get('k1')).toBe('value-1');
    });
  });

  it('takes an index snapshot resume point as synced (damage after it is judged by later marks)', async () => {
    const dir = await tempDir('marks-writer');
    const w = await OpenWriter.open(dir, { durability: 'always' });
    await w.write([{ put: 'a', value: 'first' }]);
    await w.write([{ put: 'b', value: 'second' }]);
    await w.write([{ put: 'c', value: 'third' }]);
    await w.close();
    const path = join(dir, name(1));
    const bytes = readFileSync(path);
    // Under 'always' each write after the first starts with a mark for the sync before it,
    // and close ends the segment with a mark covering all of it.
    const marks: number[] = [];
    for (let at = HEADER; at < bytes.length; ) {
      const step = scanRecord(bytes, at, bytes.length);
      if (step.kind !== 'record') expect.fail(`bad record at ${at}`);
      if (step.header.type === TYPE_SYNC_MARK) marks.push(syncMarkValue(bytes, at));
      at += step.length;
    }
    expect(marks.length).toBe(3);
    expect(marks.at(-1)).toBe(bytes.length - SYNC_MARK_BYTES);
    // Damage in the middle of a cleanly closed segment is damage, snapshot or not.
    const damaged = Buffer.from(bytes);
    damaged[HEADER + 40] ^= 0x01;
    writeFileSync(path, damaged);
    writeFileSync(join(dir, 'INDEX-SNAPSHOT'), Buffer.alloc(0)); // unusable: scan from the start
    expectRecoveryError(dir, 'KV_CORRUPTION');
  });

  it('seals a last segment of format 2 (no sync marks) and appends to a new one', async () => {
    const dir = await tempDir('marks-v2');
    const v2 = Buffer.from(encodeSegmentHeader(1));
    v2.writeUInt16LE(2, 4);
    v2.writeUInt32LE(crc32c(v2, 0, 28), 28);
    writeFileSync(join(dir, name(1)), Buffer.concat([v2, rec(1, 'put', 'old', 'v2')]));
    const w = await OpenWriter.open(dir);
    try {
      expect(w.get('old')).toBe('v2');
      await w.write([{ put: 'new', value: 'v3' }]);
      const stats = await w.stats();
      expect(stats.segments.map((s) => [s.id, s.active])).toEqual([
        [1, false],
        [2, true],
      ]);
    } finally {
      await w.close();
    }
    // The old file is as it was: no record of a newer format was appended to it.
    expect(readFileSync(join(dir, name(1))).readUInt16LE(4)).toBe(2);
    expect(existsSync(join(dir, name(2)))).toBe(true);
    const w2 = await OpenWriter.open(dir);
    try {
      expect([w2.get('old'), w2.get('new')]).toEqual(['v2', 'v3']);
    } finally {
      await w2.close();
    }
  });
});
