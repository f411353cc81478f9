// Read-modify-write operations through the writer service on the test thread: they see the
// writes before them in the same submission, their produced records are published and
// recovered, refusals leave everything as it was, and results come back by record number.

import { afterEach, describe, expect, it } from 'vitest';
import { WRITE_OK } from '../../dist/shared/messages.js';
import { OP_APPEND, OP_CLEAR, OP_GETDEL, OP_INCRBY } from '../../dist/shared/write-ops.js';
import { layoutRecord, OpenWriter, removeTempDirs, tempDir, utf8 } from './worker-harness.js';

afterEach(removeTempDirs);

const opRecord = (type: number, key: string, argument = '') =>
  ({ raw: layoutRecord(type, 0, 0, utf8(key), utf8(argument)) }) as const;

describe('operations in the writer', () => {
  it('see earlier records of the same submission and answer by record number', async () => {
    const dir = await tempDir('ops-writer');
    const w = await OpenWriter.open(dir, { segmentBytes: 4096 });
    const reply = await w.write([
      { put: 'n', value: '40' },
      opRecord(OP_INCRBY, 'n', '2'),
      opRecord(OP_APPEND, 's', 'ab'),
      opRecord(OP_INCRBY, 's', '1'),
      opRecord(OP_GETDEL, 'n'),
      { put: 'after', value: 'x' },
    ]);
    expect(Array.from(reply.outcomes)).toEqual([
      WRITE_OK,
      WRITE_OK,
      WRITE_OK,
      WRITE_OK,
      WRITE_OK,
      WRITE_OK,
    ]);
    expect(reply.results?.[1]).toEqual({ applied: true, integer: 42n });
    expect(reply.results?.[2]).toEqual({ applied: true, integer: 2n });
    expect(reply.results?.[3]?.error?.code).toBe('KV_NOT_INTEGER');
    expect(Buffer.from(reply.results?.[4]?.previous ?? []).toString()).toBe('42');
    expect(w.get('n')).toBeUndefined();
    expect(w.get('s')).toBe('ab');
    expect(w.get('after')).toBe('x');
    await w.close();
    const again = await OpenWriter.open(dir, { segmentBytes: 4096 });
    expect(again.get('n')).toBeUndefined();
    expect(again.get('s')).toBe('ab');
    await again.close();
  });

  it('clear writes one batch of tombstones for every key, expired ones too', async () => {
    const dir = await tempDir('ops-clear');
    const w = await OpenWriter.open(dir, { segmentBytes: 4096 });
    await w.write([
      { put: 'a', value: '1' },
      { put: 'b', value: '2' },
      { put: 'old', value: 'x', expiresAt: Date.now() - 1 },
    ]);
    const reply = await w.write([opRecord(OP_CLEAR, ''), { put: 'c', value: '3' }]);
    expect(reply.results?.[0]).toEqual({ applied: true, integer: 3n });
    expect((await w.stats()).segments.reduce((n, s) => n + s.liveKeys, 0)).toBe(1);
    expect(w.get('a')).toBeUndefined();
    expect(w.get('c')).toBe('3');
    expect((await w.write([opRecord(OP_CLEAR, '')])).results?.[0]?.integer).toBe(1n);
    expect((await w.write([opRecord(OP_CLEAR, '')])).results?.[0]?.integer).toBe(0n);
    await w.close();
  });

  it('refuse to sit inside a batch', async () => {
    const dir = await tempDir('ops-batch');
    const w = await OpenWriter.open(dir);
    const reply = await w.write([
      { batch: [{ put: 'a', value: '1' }, opRecord(OP_INCRBY, 'a', '1')] },
    ]);
    expect(reply.error?.code).toBe('KV_INTERNAL');
    expect(w.get('a')).toBeUndefined();
    await w.close();
  });
});
