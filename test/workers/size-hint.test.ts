// The index size hint (src/workers/size-hint.ts): written on a clean close, read at open to size
// the index at once; a missing or malformed hint is ignored.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFileSystem } from '../../dist/workers/file-system.js';
import { readSizeHint, writeSizeHint } from '../../dist/workers/size-hint.js';
import { OpenWriter, removeTempDirs, tempDir } from './worker-harness.js';

afterEach(removeTempDirs);

describe('size hint', () => {
  it('round-trips and ignores missing, malformed or absurd hints', async () => {
    const dir = await tempDir('hint');
    expect(readSizeHint(nodeFileSystem, dir)).toBe(0);
    writeSizeHint(nodeFileSystem, dir, 1234);
    expect(readSizeHint(nodeFileSystem, dir)).toBe(1234);
    for (const bad of ['not json', '{"keys":-5}', '{"keys":1.5}', '{"keys":"7"}', '{}']) {
      writeFileSync(join(dir, 'SIZE-HINT'), bad);
      expect(readSizeHint(nodeFileSystem, dir)).toBe(0);
    }
    writeSizeHint(nodeFileSystem, join(dir, 'missing', 'dir'), 5); // never throws
  });

  it('is written on close and sizes the index of the next open for that many keys', async () => {
    const dir = await tempDir('hint-open');
    const w = await OpenWriter.open(dir);
    const ops = Array.from({ length: 5000 }, (_, i) => ({ put: `k${i}`, value: 'v' }));
    await w.write(ops);
    const grownTo = w.index.capacity;
    await w.close();
    expect(readSizeHint(nodeFileSystem, dir)).toBe(5000);
    const again = await OpenWriter.open(dir);
    // Sized up front: no growth happened while recovery inserted the keys.
    expect(again.index.generation).toBe(0);
    expect(again.index.capacity).toBeLessThanOrEqual(grownTo);
    expect(again.index.count).toBe(5000);
    expect(again.get('k4999')).toBe('v');
    await again.close();
  });
});
