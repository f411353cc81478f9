// Tests the packed key list of the key memtable (src/main/key-arena.ts) against an array of
// strings: keys pushed one by one or appended from another arena, across growth, clear and
// trim, come back as the same latin1 strings in the same order.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyArena } from '../../dist/main/key-arena.js';

/** A key as latin1: one char per byte, empty and long ones included. */
const key = fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1'));

describe('KeyArena', () => {
  it('holds what was pushed and appended, in order, through growth, clear and trim', () => {
    const step = fc.oneof(
      fc.record({ push: key }),
      fc.record({ append: fc.array(key, { maxLength: 20 }) }),
      fc.record({ clear: fc.constant(true) }),
      fc.record({ trim: fc.constant(true) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        // Tiny initial sizes, so growth happens within a few keys.
        const arena = new KeyArena(1, 1);
        let model: string[] = [];
        for (const s of steps) {
          if ('push' in s) {
            // Pushed from the middle of a larger buffer, as the write queue does.
            const b = Buffer.concat([
              Buffer.from('<<'),
              Buffer.from(s.push, 'latin1'),
              Buffer.from('>>'),
            ]);
            arena.push(b, 2, b.length - 4);
            model.push(s.push);
          } else if ('append' in s) {
            arena.append(KeyArena.of(s.append));
            model.push(...s.append);
          } else if ('clear' in s) {
            arena.clear();
            model = [];
          } else {
            arena.trim();
          }
          expect(arena.count).toBe(model.length);
          expect(arena.byteLength).toBe(model.reduce((n, k) => n + k.length, 0));
        }
        expect(arena.toStrings()).toEqual(model);
      }),
    );
  });
});
