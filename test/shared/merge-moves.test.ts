// Tests the merge move list codec (src/shared/merge-moves.ts): any sequence of moves, copies
// and drops, with expiries up to 2^53 - 1, reads back exactly and in order, across growth.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type MergeMove,
  MoveListBuilder,
  moveAt,
  moveCount,
} from '../../dist/shared/merge-moves.js';

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });

const move: fc.Arbitrary<MergeMove> = fc.record({
  tag: u32,
  fromHandle: fc.integer({ min: 0, max: 0xffff }),
  fromOffset: u32,
  to: fc.option(fc.integer({ min: 0, max: 0xffff_fffe }), { nil: undefined }),
  length: u32,
  toLength: u32,
  keyLength: u32,
  expiresAt: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
});

describe('merge move lists', () => {
  it('read back every move exactly, in order', () => {
    fc.assert(
      fc.property(fc.array(move, { maxLength: 3000 }), (moves) => {
        const builder = new MoveListBuilder();
        for (const m of moves) builder.add(m);
        const packed = builder.finish();
        expect(moveCount(packed)).toBe(moves.length);
        for (let i = 0; i < moves.length; i++) expect(moveAt(packed, i)).toEqual(moves[i]);
      }),
      { numRuns: 40 },
    );
  });
});
