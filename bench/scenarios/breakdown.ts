// Scenario "breakdown": where one kvd getSync hit spends its time, measured part by part on the
// loaded dataset A with the same probe keys: the whole getSync (memory-mapped segments, the
// default), then the index probe alone (hash + stripe lock + slot search), the record read
// alone (from the segment's map into a new Buffer; with pread into a reused buffer and into a
// new one), and CRC32C over the record. Then what an async `get` adds: the whole `get` with 256
// in flight, against the same window of awaited calls that read nothing (each call's promise,
// settled in one batch per event-loop turn, as kvd settles a turn's gets).

import { readSync } from 'node:fs';
import { crc32c, crc32cJs } from '../../src/shared/crc32c.js';
import type { IndexTable, SlotLocation } from '../../src/shared/index-table.js';
import { SegmentFds } from '../../src/shared/segment-fds.js';
import { openKvd, type Store } from '../engines/kvd.js';
import { PROBE_LENGTH, probeAt, probeKeys } from '../lib/dataset.js';
import { measureSync, measureWindow } from '../lib/measure.js';
import { GET_IN_FLIGHT } from '../lib/read-suite.js';
import { figureId, type Scenario } from '../lib/scenario.js';

/** The store's shared index: internal, read here only to time the read path's parts. */
function indexOf(store: Store): IndexTable {
  return (store as unknown as { e: { index: IndexTable } }).e.index;
}

export const scenario: Scenario = {
  id: 'breakdown',
  title: 'one getSync hit, part by part (dataset A)',
  async run({ config, fixtures }, out) {
    const dir = await fixtures.dir('kvd', 'A');
    const store = await openKvd(dir, 'no', config.readers);
    const index = indexOf(store);
    const fds = new SegmentFds(dir, index);
    const maps = new SegmentFds(dir, index, 'mmap');
    try {
      const probe = probeKeys(fixtures.spec('A').count, 'hit', 0xb10b);
      const mask = PROBE_LENGTH - 1;
      const accept = () => true;
      const locations: SlotLocation[] = probe.map((key) => {
        const tag = index.tagOfKey(key);
        index.beginRead(tag);
        try {
          return index.locationAt(index.find(tag, accept));
        } finally {
          index.endRead(tag);
        }
      });
      const reused = Buffer.allocUnsafe(64 * 1024);
      const base = { engine: 'kvd', dataset: 'A', unit: 'keys/s', better: 'higher' } as const;
      const timed = (variant: string, label: string, how: string, op: (i: number) => number) =>
        out.measured(
          { ...base, id: figureId('breakdown', 'A', 'kvd', variant), label, how },
          measureSync(op, { timeMs: config.timeMs }),
        );
      timed('getSync', 'getSync (whole)', 'caller thread', (i) =>
        store.getSync(probeAt(probe, i)) ? 1 : 0,
      );
      timed('probe', 'hash + lock + probe', 'no disk read', (i) => {
        const tag = index.tagOfKey(probeAt(probe, i));
        index.beginRead(tag);
        try {
          return index.find(tag, accept) >= 0 ? 1 : 0;
        } finally {
          index.endRead(tag);
        }
      });
      timed('map.copy', 'copy of the record from its map', 'into a new Buffer', (i) => {
        const l = locations[i & mask]!;
        const bytes = maps.view(l.handle, l.offset, l.length);
        const copy = Buffer.allocUnsafe(l.length);
        copy.set(bytes.subarray(maps.viewAt, maps.viewAt + l.length));
        return copy[0] === undefined ? 0 : 1;
      });
      timed('pread', 'pread of the record', 'reused buffer', (i) => {
        const l = locations[i & mask]!;
        return readSync(fds.fdFor(l.handle), reused, 0, l.length, l.offset) === l.length ? 1 : 0;
      });
      timed('pread.alloc', 'pread into a new Buffer', 'Buffer.allocUnsafe per read', (i) => {
        const l = locations[i & mask]!;
        const b = Buffer.allocUnsafe(l.length);
        return readSync(fds.fdFor(l.handle), b, 0, l.length, l.offset) === l.length ? 1 : 0;
      });
      timed('crc', 'CRC32C of the record', 'bytes 4..end', (i) => {
        const l = locations[i & mask]!;
        return crc32c(reused, 4, l.length) >= 0 ? 1 : 0;
      });
      const inWindow = async (
        variant: string,
        label: string,
        how: string,
        op: (i: number) => Promise<number>,
      ) =>
        out.measured(
          { ...base, id: figureId('breakdown', 'A', 'kvd', variant), label, how },
          await measureWindow(op, { timeMs: config.timeMs, inFlight: GET_IN_FLIGHT }),
        );
      await inWindow(
        'get256',
        'get (whole)',
        `${GET_IN_FLIGHT} in flight, read on the caller`,
        async (i) => ((await store.get(probeAt(probe, i))) ? 1 : 0),
      );
      const settledPerTurn = turnBatcher(reused.subarray(0, 100));
      await inWindow(
        'window.floor',
        'an awaited call that reads nothing',
        `${GET_IN_FLIGHT} in flight, settled once per turn`,
        async () => ((await settledPerTurn()).length > 0 ? 1 : 0),
      );
      const big = Buffer.alloc(4096 + 48, 7);
      const crcBase = { ...base, dataset: undefined, unit: 'checksums/s' } as const;
      out.measured(
        {
          ...crcBase,
          id: figureId('breakdown', undefined, 'kvd', 'crc.4k.js'),
          label: 'CRC32C of a 4 KiB record, JS',
          how: 'slicing-by-8',
        },
        measureSync(() => (crc32cJs(big, 4, big.length) >= 0 ? 1 : 0), { timeMs: config.timeMs }),
      );
      out.measured(
        {
          ...crcBase,
          id: figureId('breakdown', undefined, 'kvd', 'crc.4k'),
          label: 'CRC32C of a 4 KiB record, as kvd computes it',
          how: 'native from 512 B',
        },
        measureSync(() => (crc32c(big, 4, big.length) >= 0 ? 1 : 0), { timeMs: config.timeMs }),
      );
      out.note(
        'each part is timed alone over the same probe keys; their costs add up to roughly the ' +
          'whole getSync (the rest: key comparison, expiry check, result view)',
      );
    } finally {
      fds.closeAll();
      maps.closeAll();
      await store.close();
    }
  },
};

/**
 * A call that returns a promise of `value`, settled with every other call of the same
 * event-loop turn from one setImmediate: the shape of kvd's `get` (ReadQueue) without a read.
 */
function turnBatcher(value: Buffer): () => Promise<Buffer> {
  let waiting: ((v: Buffer) => void)[] = [];
  const settle = () => {
    const now = waiting;
    waiting = [];
    for (const resolve of now) resolve(value);
  };
  return () =>
    new Promise((resolve) => {
      if (waiting.push(resolve) === 1) setImmediate(settle);
    });
}
