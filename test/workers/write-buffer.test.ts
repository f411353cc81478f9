// Tests for parsing a submitted write buffer (src/workers/write-buffer.ts): units (one record,
// or a batch with its commit) found for any well-formed buffer, and every malformation refused
// with KV_INTERNAL.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KvError } from '../../dist/shared/errors.js';
import { FLAG_IN_BATCH, OFF_TYPE, recordLengthAt, TYPE_PUT } from '../../dist/shared/format.js';
import { countRecords, parseWriteBuffer } from '../../dist/workers/write-buffer.js';
import { layoutRecord, type Op, recordCount, submission, utf8 } from './worker-harness.js';

const bytesOf = (ops: readonly Op[]): Uint8Array => {
  const { buffer, length } = submission(ops);
  return new Uint8Array(buffer, 0, length);
};

function parseError(b: Uint8Array): string {
  try {
    parseWriteBuffer(b);
  } catch (error) {
    if (error instanceof KvError) return error.code;
    throw error;
  }
  return 'accepted';
}

const leaf: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ put: fc.string({ maxLength: 8 }), value: fc.string({ maxLength: 20 }) }),
  fc.record({ del: fc.string({ maxLength: 8 }) }),
);
const unit: fc.Arbitrary<Op> = fc.oneof(
  leaf,
  fc.record({ batch: fc.array(leaf, { minLength: 1, maxLength: 5 }) }),
);

describe('parseWriteBuffer', () => {
  it('finds one unit per record or batch, ending where each ends (property)', () => {
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 12 }), (units) => {
        const b = bytesOf(units);
        const parsed = parseWriteBuffer(b);
        const ends: number[] = [];
        let at = 0;
        for (const u of units) {
          at += bytesOf([u]).length;
          ends.push(at);
        }
        expect(parsed.unitEnds).toEqual(ends);
        expect(parsed.records).toBe(recordCount(units));
        expect(countRecords(b, 0, b.length)).toBe(parsed.records);
        expect(parsed.bytes).toBe(b);
      }),
      { numRuns: 300 },
    );
  });

  it('measures a record as header, key and value', () => {
    const b = bytesOf([{ put: 'key', value: 'value' }]);
    expect(recordLengthAt(b, 0)).toBe(32 + 3 + 5);
  });

  it('refuses every malformed buffer with KV_INTERNAL', () => {
    const inBatch = layoutRecord(TYPE_PUT, FLAG_IN_BATCH, 0, utf8('b'), utf8('v'));
    const badType = layoutRecord(TYPE_PUT, 0, 0, utf8('t'), utf8('v'));
    badType[OFF_TYPE] = 0;
    const whole = bytesOf([{ put: 'k', value: 'v' }]);
    const cases: Record<string, Uint8Array> = {
      'fewer bytes than a header': new Uint8Array(31),
      'trailing bytes after a record': bytesOf([
        { put: 'k', value: 'v' },
        { raw: new Uint8Array(3) },
      ]),
      'a record overrunning the buffer': whole.subarray(0, whole.length - 1),
      'record type 0': badType,
      'batch without commit': bytesOf([{ raw: inBatch }]),
      'commit count too high': bytesOf([{ raw: inBatch }, { commit: 2 }]),
      'commit count too low': bytesOf([{ raw: inBatch }, { raw: inBatch }, { commit: 1 }]),
      'plain record inside a batch': bytesOf([
        { raw: inBatch },
        { put: 'p', value: '' },
        { commit: 1 },
      ]),
      'commit flagged in a batch': bytesOf([{ raw: inBatch }, { commit: 1, flags: FLAG_IN_BATCH }]),
    };
    for (const [name, b] of Object.entries(cases)) expect(parseError(b), name).toBe('KV_INTERNAL');
  });

  it('accepts an empty buffer as no units', () => {
    expect(parseWriteBuffer(new Uint8Array(0))).toMatchObject({ unitEnds: [], records: 0 });
  });
});
