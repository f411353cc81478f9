// The writer's side of versions and expiry, driven on the test thread: a version check
// (OP_CHECK) lets the batch after it through or refuses it with KV_CONFLICT; a reap (OP_REAP)
// deletes a key only if its current record has expired; the active expiry cycle deletes expired
// keys nobody reads; sample, checkpoint and setDurability.

import { afterEach, describe, expect, it } from 'vitest';
import { WRITE_FAILED, WRITE_OK, WRITE_OK_EXISTED } from '../../dist/shared/messages.js';
import { OP_CHECK, OP_REAP } from '../../dist/shared/write-ops.js';
import { pollUntil } from '../fixtures/poll.js';
import {
  expectValue,
  expectVoid,
  layoutRecord,
  OpenWriter,
  removeTempDirs,
  tempDir,
  utf8,
} from './worker-harness.js';

afterEach(removeTempDirs);

/** An OP_CHECK for `key` expecting `version` (undefined: absent). */
function check(key: string, version: number | undefined) {
  const v = new Uint8Array(version === undefined ? 0 : 8);
  if (version !== undefined) {
    new DataView(v.buffer).setUint32(0, version >>> 0, true);
    new DataView(v.buffer).setUint32(4, Math.floor(version / 2 ** 32), true);
  }
  return { raw: layoutRecord(OP_CHECK, 0, 0, utf8(key), v) };
}

describe('version checks and reaps', () => {
  it('OP_CHECK lets the batch after it through only while the key has its version', async () => {
    const w = await OpenWriter.open(await tempDir('op-check'));
    try {
      await w.write([{ put: 'a', value: '1' }]);
      const version = w.reader.version('a')!;
      const ok = await w.write([check('a', version), { batch: [{ put: 'a', value: '2' }] }]);
      expect([...ok.outcomes]).toEqual([WRITE_OK, WRITE_OK_EXISTED, WRITE_OK]);
      expect(w.get('a')).toBe('2');
      // Stale version: the check fails, the batch is refused, other records go on.
      const stale = await w.write([
        check('a', version),
        {
          batch: [
            { put: 'a', value: '3' },
            { put: 'b', value: 'x' },
          ],
        },
        { put: 'c', value: 'independent' },
      ]);
      expect([...stale.outcomes]).toEqual([
        WRITE_FAILED,
        WRITE_FAILED,
        WRITE_FAILED,
        WRITE_FAILED,
        WRITE_OK,
      ]);
      expect(stale.results?.[0]?.error?.code).toBe('KV_CONFLICT');
      expect([w.get('a'), w.get('b'), w.get('c')]).toEqual(['2', undefined, 'independent']);
      // "Absent" holds for a key never written, and not for one that exists.
      const absent = await w.write([
        check('new', undefined),
        { batch: [{ put: 'new', value: 'n' }] },
      ]);
      expect(absent.results?.[0]?.applied).toBe(true);
      expect(w.get('new')).toBe('n');
    } finally {
      await w.close();
    }
  });

  it('OP_REAP deletes a key only if its current record has expired', async () => {
    const w = await OpenWriter.open(await tempDir('op-reap'));
    try {
      const past = Date.now() - 1000;
      await w.write([
        { put: 'old', value: 'gone', expiresAt: past },
        { put: 'fresh', value: 'here', expiresAt: Date.now() + 60_000 },
      ]);
      expect(w.index.count).toBe(2);
      const reply = await w.write([
        { raw: layoutRecord(OP_REAP, 0, 0, utf8('old'), new Uint8Array(0)) },
        { raw: layoutRecord(OP_REAP, 0, 0, utf8('fresh'), new Uint8Array(0)) },
        { raw: layoutRecord(OP_REAP, 0, 0, utf8('never'), new Uint8Array(0)) },
      ]);
      expect([0, 1, 2].map((r) => reply.results?.[r]?.applied)).toEqual([true, false, false]);
      expect(w.index.count).toBe(1);
      expect(w.get('fresh')).toBe('here');
      expect((await w.stats()).expiredKeys).toBe(1);
    } finally {
      await w.close();
    }
  });
});

describe('the active expiry cycle', () => {
  it('deletes expired keys nobody reads, and nothing else', async () => {
    const dir = await tempDir('expiry-cycle');
    const w = await OpenWriter.open(dir, { expiryCycleMs: 5 });
    try {
      const soon = Date.now() + 30;
      const ops = [];
      for (let i = 0; i < 500; i++) ops.push({ put: `ttl${i}`, value: 'v', expiresAt: soon });
      for (let i = 0; i < 50; i++) ops.push({ put: `keep${i}`, value: 'v' });
      await w.write(ops);
      await pollUntil('the expired keys are gone', () => w.index.count === 50, 10_000);
      expect((await w.stats()).expiredKeys).toBe(500);
      for (let i = 0; i < 50; i++) expect(w.get(`keep${i}`)).toBe('v');
    } finally {
      await w.close();
    }
    // The deletes were logged: a reopen does not bring the keys back.
    const again = await OpenWriter.open(dir, { expiryCycleMs: 0 });
    try {
      expect(again.index.count).toBe(50);
    } finally {
      await again.close();
    }
  });
});

describe('sample, checkpoint, setDurability', () => {
  it('samples live locations, writes a snapshot on demand, and changes durability while open', async () => {
    const dir = await tempDir('writer-admin');
    const w = await OpenWriter.open(dir, { durability: 'no' });
    try {
      expect(expectValue(await w.service.sample(3)).length).toBe(0);
      await w.write([
        { put: 'a', value: '1' },
        { put: 'b', value: '2' },
      ]);
      const locations = expectValue(await w.service.sample(3));
      expect(locations.length % 3).toBe(0);
      expect(locations.length).toBeGreaterThan(0);
      const at = expectValue(await w.service.checkpoint());
      expect(at).toBeGreaterThan(0);
      expect((await w.stats()).lastSnapshotAt).toBe(at);
      expectVoid(await w.service.setDurability('always'));
      const syncs = (await w.stats()).syncs;
      await w.write([{ put: 'c', value: '3' }]);
      const stats = await w.stats();
      expect(stats.durability).toBe('always');
      expect(stats.syncs).toBeGreaterThan(syncs);
    } finally {
      await w.close();
    }
  });
});
