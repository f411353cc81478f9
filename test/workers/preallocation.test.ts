// Preallocation under `always` (src/workers/log-writer.ts): the active segment is extended with
// zeros ahead of the data so each fdatasync need not commit a new file size; the zeros are
// trimmed on rotation and close, and recovery (src/workers/recovery.ts) trims a zero tail left
// by a crash silently, without calling it torn.

import { appendFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SYNC_MARK_BYTES } from '../../dist/shared/format.js';
import { OpenWriter, removeTempDirs, tempDir } from './worker-harness.js';

afterEach(removeTempDirs);

const name = (id: number): string => `${String(id).padStart(6, '0')}.log`;

describe('preallocation under always', () => {
  it('extends the active segment with zeros ahead of the data, and close trims them', async () => {
    const dir = await tempDir('prealloc-close');
    const w = await OpenWriter.open(dir, { durability: 'always', segmentBytes: 8 << 20 });
    await w.write([{ put: 'a', value: 'one' }]);
    const stats = await w.stats();
    const logical = stats.segments[0]!.bytes;
    expect(statSync(join(dir, name(1))).size).toBeGreaterThanOrEqual(1 << 20);
    expect(logical).toBeLessThan(1 << 10);
    await w.close();
    // Trimmed to the data, plus the sync mark close appends after its fdatasync.
    expect(statSync(join(dir, name(1))).size).toBe(logical + SYNC_MARK_BYTES);
  });

  it('trims the zeros of a segment it seals', async () => {
    const dir = await tempDir('prealloc-rotate');
    const w = await OpenWriter.open(dir, { durability: 'always', segmentBytes: 4096 });
    for (let i = 0; i < 40; i++) await w.write([{ put: `k${i}`, value: 'v'.repeat(200) }]);
    const stats = await w.stats();
    expect(stats.segments.length).toBeGreaterThan(1);
    for (const s of stats.segments.filter((x) => !x.active)) {
      expect(statSync(join(dir, name(s.id))).size).toBe(s.bytes);
    }
    await w.close();
  });

  it('leaves a zero tail after a crash that reopening trims without calling it torn', async () => {
    const dir = await tempDir('prealloc-crash');
    const w = await OpenWriter.open(dir, { durability: 'always', segmentBytes: 8 << 20 });
    await w.write([
      { put: 'a', value: 'one' },
      { put: 'b', value: 'two' },
    ]);
    const logical = (await w.stats()).segments[0]!.bytes;
    // A crash: the service is abandoned without close, so the zeros stay on disk.
    expect(statSync(join(dir, name(1))).size).toBeGreaterThan(logical);
    const again = await OpenWriter.open(dir, { durability: 'no' });
    expect(again.opened.truncatedBytes).toBe(0);
    expect(statSync(join(dir, name(1))).size).toBe(logical);
    expect(readdirSync(dir).some((f) => f.includes('.torn-'))).toBe(false);
    expect(again.get('a')).toBe('one');
    expect(again.get('b')).toBe('two');
    await again.close();
    await w.close(); // closes the abandoned writer's fd (its trim is harmless now)
    expect(existsSync(join(dir, name(1)))).toBe(true);
  });

  it('still calls a non-zero tail after the data torn, and saves it', async () => {
    const dir = await tempDir('prealloc-torn');
    const w = await OpenWriter.open(dir, { durability: 'no' });
    await w.write([{ put: 'a', value: 'one' }]);
    await w.close();
    appendFileSync(join(dir, name(1)), Buffer.from([0, 0, 0, 0, 7, 0, 0]));
    const again = await OpenWriter.open(dir);
    expect(again.opened.truncatedBytes).toBe(7);
    expect(readdirSync(dir).filter((f) => f.includes('.torn-'))).toHaveLength(1);
    expect(again.get('a')).toBe('one');
    await again.close();
  });
});
