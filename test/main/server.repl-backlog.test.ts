// The replication backlog (repl-backlog.ts) against a model (the whole stream kept): whatever
// is appended in whatever pieces, `from(offset)` gives the stream's bytes from there while the
// ring holds them, and nothing (undefined) for offsets it has let go or not reached.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplBacklog } from '../../dist/main/server/replication/repl-backlog.js';

describe('ReplBacklog', () => {
  it('gives back the last bytes of the stream from any offset it holds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        fc.nat(1_000),
        fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 30 }),
        (capacity, start, pieces) => {
          const backlog = new ReplBacklog(capacity, start);
          let stream = Buffer.alloc(0);
          for (const piece of pieces) {
            backlog.append(Buffer.from(piece));
            stream = Buffer.concat([stream, piece]);
          }
          const end = start + stream.length;
          const first = Math.max(start, end - capacity);
          expect(backlog.firstOffset).toBe(first);
          expect(backlog.length).toBe(end - first);
          for (let offset = first; offset <= end; offset++) {
            expect(backlog.from(offset)).toEqual(stream.subarray(offset - start));
          }
          expect(backlog.from(first - 1)).toBeUndefined();
          expect(backlog.from(end + 1)).toBeUndefined();
        },
      ),
    );
  });
});
