// The writer's point-in-time snapshot of live locations (WriterService.snapshot,
// IndexTable.writerCopyLocations) and reading keys back at those locations (RecordReader.keyAt,
// readKeysAt): expired records left out, a damaged record refused.

import { openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readKeysAt, unpackKeys } from '../../dist/shared/read-batch.js';
import { expectValue, OpenWriter, removeTempDirs, tempDir } from './worker-harness.js';

afterEach(removeTempDirs);

describe('snapshot and keys at locations', () => {
  it('copies every live location after the queued writes, and reads their keys', async () => {
    const dir = await tempDir('snapshot');
    const w = await OpenWriter.open(dir, { segmentBytes: 4096 });
    void w.write([{ put: 'a', value: '1' }, { put: 'b', value: '2' }, { del: 'a' }]);
    void w.write([
      { put: 'c', value: '3' },
      { put: 'gone', value: 'x', expiresAt: Date.now() - 1 },
    ]);
    const locations = expectValue(await w.service.snapshot());
    expect(locations.length).toBe(3 * 3); // b, c, gone (expired records stay in the index)
    const keys = unpackKeys(readKeysAt(w.reader, locations)).map((k) => Buffer.from(k).toString());
    expect(keys.sort()).toEqual(['b', 'c']);
    await w.close();
  });

  it('refuses a damaged record with KV_CORRUPTION', async () => {
    const dir = await tempDir('snapshot-corrupt');
    const w = await OpenWriter.open(dir);
    await w.write([{ put: 'key', value: 'value' }]);
    const locations = expectValue(await w.service.snapshot());
    const fd = openSync(join(dir, '000001.log'), 'r+');
    writeSync(fd, Buffer.from([0xff]), 0, 1, locations[1]! + locations[2]! - 1);
    expect(() => w.reader.located.keyAt(locations[0]!, locations[1]!, locations[2]!)).toThrow(
      expect.objectContaining({ code: 'KV_CORRUPTION' }),
    );
    await w.close();
    const closed = await w.service.snapshot();
    expect(closed.ok).toBe(false);
  });
});
