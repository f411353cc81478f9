// Scenario "range": ordered range scans of dataset A (plus groups of 1,000 keys sharing a
// prefix): 100 and 10,000 consecutive keys from random start keys, a 1,000-key prefix, 100 keys
// reversed and 100 keys without values, through kvd (fresh, then after compact()), lmdb and
// classic-level, each engine checked against the same expected keys; kvd ÷ peer ratios.

import { loadKvd, openKvd, segmentBytesFor } from '../engines/kvd.js';
import { type Level, loadLevel, openLevel } from '../engines/level.js';
import { type Lmdb, loadLmdbSync, openLmdb } from '../engines/lmdb.js';
import { formatNumber } from '../lib/format.js';
import { waitForSettled } from '../lib/kvd-files.js';
import { type Measurement, measureSync, measureWindow } from '../lib/measure.js';
import {
  kvdScan,
  kvdScanSync,
  LEVEL_NEXTV,
  levelScan,
  lmdbScan,
  scanKeys,
} from '../lib/range-scans.js';
import {
  PREFIX_GROUP_KEYS,
  PREFIX_GROUPS,
  RangeData,
  type ScanBounds,
  ScanProbe,
  type ScanShape,
} from '../lib/range-workload.js';
import type { Figure } from '../lib/results.js';
import { expectAllFound, figureId, type Scenario } from '../lib/scenario.js';

const SHAPES: readonly ScanShape[] = [
  { variant: 'range100', what: '100 keys', keys: 100, prefix: false, reverse: false, values: true },
  {
    variant: 'range10000',
    what: '10,000 keys',
    keys: 10_000,
    prefix: false,
    reverse: false,
    values: true,
  },
  {
    variant: 'prefix1000',
    what: `${PREFIX_GROUP_KEYS.toLocaleString('en-US')}-key prefix`,
    keys: PREFIX_GROUP_KEYS,
    prefix: true,
    reverse: false,
    values: true,
  },
  {
    variant: 'range100.reverse',
    what: '100 keys, reverse',
    keys: 100,
    prefix: false,
    reverse: true,
    values: true,
  },
  {
    variant: 'range100.keys',
    what: '100 keys, keys only',
    keys: 100,
    prefix: false,
    reverse: false,
    values: false,
  },
];
/** The shape kvd's async `range` is measured with too. */
const ASYNC_SHAPE = 0;
/** Samples (or slices) per task; the rate is over all of them together. */
const WINDOWS = 8;
/** Scans per shape and engine whose keys are compared with the expected ones before timing. */
const CHECKS = 8;
const MIB = 2 ** 20;

type KvdState = 'fresh' | 'compacted';
const STATE_LABEL: Record<KvdState, string> = { fresh: 'fresh', compacted: 'after compact()' };

export const scenario: Scenario = {
  id: 'range',
  title: 'ordered range scans: 100 and 10,000 consecutive keys, a 1,000-key prefix',
  async run({ config, temp, fixtures }, out) {
    const data = new RangeData(fixtures.dataset('A'));
    const probes = SHAPES.map((shape, k) => new ScanProbe(shape, config.keys, 0x7a9e + k));
    const { timeMs } = config;
    const windowMs = timeMs / WINDOWS;
    const syncOptions = (shape: ScanShape) => ({
      timeMs,
      keysPerOp: shape.keys,
      sampleMs: windowMs,
    });
    const asyncOptions = (shape: ScanShape) => ({
      timeMs,
      inFlight: 1,
      keysPerOp: shape.keys,
      sliceMs: windowMs,
    });
    const record = (
      engine: Figure['engine'],
      variant: string,
      label: string,
      how: string,
      m: Measurement,
    ): Figure =>
      out.measured(
        {
          id: figureId('range', 'A', engine, variant),
          label,
          engine,
          dataset: 'A',
          unit: 'keys/s',
          better: 'higher',
          how,
        },
        expectAllFound(label, m),
      );
    const kvdDir = temp.dir('range-kvd');
    const lmdbDir = temp.dir('range-lmdb');
    const levelDir = temp.dir('range-level');
    try {
      const loading = `(loading ${data.count.toLocaleString('en-US')} keys into`;
      process.stdout.write(`${loading} lmdb and classic-level…)\n`);
      const lmdbLoad = openLmdb(lmdbDir);
      try {
        loadLmdbSync(lmdbLoad, data);
      } finally {
        await lmdbLoad.close();
      }
      const levelLoad = await openLevel(levelDir);
      try {
        await loadLevel(levelLoad, data);
      } finally {
        await levelLoad.close();
      }

      // kvd: loaded here and kept open, so "fresh" is the state a load leaves: sealed
      // segments sorted, each with its key run (the automatic check, every 100 ms, does that;
      // waited for), the active segment's keys in the memtable. Then compact() merges
      // everything.
      process.stdout.write(`${loading} kvd…)\n`);
      const kvd: Record<KvdState, Figure[]> = { fresh: [], compacted: [] };
      const kvdAsync: Partial<Record<KvdState, Figure>> = {};
      const segmentBytes = segmentBytesFor(config.keys);
      const store = await openKvd(kvdDir, 'no', config.readers, {
        segmentBytes,
        compaction: { intervalMs: 100, bytesPerSecond: 0 },
      });
      try {
        await loadKvd(store, data);
        const loaded = performance.now();
        const fresh = await waitForSettled(store, 120_000);
        const settleSeconds = (performance.now() - loaded) / 1000;
        const active = fresh.segments.find((s) => s.active);
        const measureKvd = async (state: KvdState) => {
          for (const [k, probe] of probes.entries()) {
            const shape = probe.shape;
            check(`kvd rangeSync ${shape.what}`, probe, (b) => scanKeys.kvdSync(store, shape, b));
            kvd[state].push(
              record(
                'kvd',
                `${shape.variant}.${state}`,
                `kvd rangeSync, ${shape.what}, ${STATE_LABEL[state]}`,
                `caller thread; ${kvdHow(shape)}`,
                measureSync((i) => kvdScanSync(store, shape, probe.at(i)), syncOptions(shape)),
              ),
            );
            if (k !== ASYNC_SHAPE) continue;
            await checkAsync(`kvd range ${shape.what}`, probe, (b) =>
              scanKeys.kvd(store, shape, b),
            );
            kvdAsync[state] = record(
              'kvd',
              `${shape.variant}.async.${state}`,
              `kvd range (async), ${shape.what}, ${STATE_LABEL[state]}`,
              `for await, 1 scan in flight; ${kvdHow(shape, 'range')}`,
              await measureWindow((i) => kvdScan(store, shape, probe.at(i)), asyncOptions(shape)),
            );
          }
        };
        await measureKvd('fresh');
        const result = await store.compact();
        const merged = (await store.stats()).segments.filter((s) => !s.active).length;
        await measureKvd('compacted');
        out.note(
          `kvd fresh: loaded in this scenario and kept open (durability 'no', segments of ` +
            `${formatNumber(segmentBytes / MIB)} MiB): ${fresh.segments.length - 1} sealed ` +
            `segments, sorted by the automatic check (sortSealed, no rate limit; ` +
            `${formatNumber(settleSeconds)} s after the load), each with its key run, and the active segment's ` +
            `${(active?.liveKeys ?? 0).toLocaleString('en-US')} keys in the memtable; after ` +
            `compact() (merges: ${result.merges}, ${formatNumber(result.seconds)} s, no rate ` +
            `limit): ${merged} merged segment(s) with key runs, the memtable empty`,
        );
      } finally {
        await store.close();
      }

      const lmdbFigures: Figure[] = [];
      const lmdb: Lmdb = openLmdb(lmdbDir, true);
      try {
        for (const probe of probes) {
          const shape = probe.shape;
          const call = shape.values ? 'getRange' : 'getKeys';
          check(`lmdb ${call} ${shape.what}`, probe, (b) => scanKeys.lmdb(lmdb, shape, b));
          lmdbFigures.push(
            record(
              'lmdb',
              shape.variant,
              `lmdb ${call}, ${shape.what}`,
              `caller thread, for…of; ${lmdbHow(shape)}`,
              measureSync((i) => lmdbScan(lmdb, shape, probe.at(i)), syncOptions(shape)),
            ),
          );
        }
      } finally {
        await lmdb.close();
      }

      const levelFigures: Figure[] = [];
      const level: Level = await openLevel(levelDir);
      try {
        for (const probe of probes) {
          const shape = probe.shape;
          const call = shape.values ? 'iterator' : 'keys()';
          await checkAsync(`classic-level ${call} ${shape.what}`, probe, (b) =>
            scanKeys.level(level, shape, b),
          );
          levelFigures.push(
            record(
              'classic-level',
              shape.variant,
              `classic-level ${call}, ${shape.what}`,
              `nextv(${LEVEL_NEXTV}) until done, 1 scan in flight; ${levelHow(shape)}`,
              await measureWindow((i) => levelScan(level, shape, probe.at(i)), asyncOptions(shape)),
            ),
          );
        }
      } finally {
        await level.close();
      }

      const rows = SHAPES.map((shape, k) => ({
        variant: shape.variant,
        what: `rangeSync, ${shape.what}`,
        kvd: { fresh: kvd.fresh[k]!, compacted: kvd.compacted[k]! },
        k,
      }));
      rows.splice(ASYNC_SHAPE + 1, 0, {
        variant: `${SHAPES[ASYNC_SHAPE]!.variant}.async`,
        what: `range (async), ${SHAPES[ASYNC_SHAPE]!.what}`,
        kvd: { fresh: kvdAsync.fresh!, compacted: kvdAsync.compacted! },
        k: ASYNC_SHAPE,
      });
      for (const row of rows) {
        for (const [peerName, peer] of [
          ['lmdb', lmdbFigures[row.k]!],
          ['classic-level', levelFigures[row.k]!],
        ] as const) {
          for (const state of ['fresh', 'compacted'] as const) {
            out.ratio(
              figureId('range', 'A', 'ratio', `${row.variant}.${state}/${peerName}`),
              `kvd ${row.what}, ${STATE_LABEL[state]} ÷ ${peer.label}`,
              row.kvd[state],
              peer,
            );
          }
        }
      }
      out.note(
        `${config.keys.toLocaleString('en-US')} keys of A plus ${PREFIX_GROUPS} groups of ` +
          `${PREFIX_GROUP_KEYS.toLocaleString('en-US')} keys "pfx:" + 9-digit group + 3 digits ` +
          '(16 B, 100 B values), interleaved into one load order, the same for every engine; ' +
          'ranges of A start at uniformly random keys and take [start, start + n) by bounds ' +
          'and limit n; a prefix scan takes a random group (kvd `prefix`, the peers the ' +
          'same [prefix, next prefix) bounds, no limit); rates are every key returned ÷ the ' +
          `whole measured time, in samples of ~${formatNumber(windowMs)} ms (GC included); ` +
          `each engine's first ${CHECKS} scans of every shape are checked key by key (untimed), ` +
          'every timed scan for its entry count and value lengths',
      );
    } finally {
      temp.remove(kvdDir);
      temp.remove(lmdbDir);
      temp.remove(levelDir);
    }
  },
};

/** Throws unless `scan` returns the expected keys, in order, for the probe's first scans. */
function check(label: string, probe: ScanProbe, scan: (b: ScanBounds) => string[]): void {
  for (let i = 0; i < CHECKS; i++) compare(label, probe, i, scan(probe.at(i)));
}

async function checkAsync(
  label: string,
  probe: ScanProbe,
  scan: (b: ScanBounds) => Promise<string[]>,
): Promise<void> {
  for (let i = 0; i < CHECKS; i++) compare(label, probe, i, await scan(probe.at(i)));
}

function compare(label: string, probe: ScanProbe, i: number, got: readonly string[]): void {
  const want = probe.expected(i);
  const at = want.findIndex((key, k) => got[k] !== key);
  if (at === -1 && got.length === want.length) return;
  const where = at === -1 ? want.length : at;
  throw new Error(
    `${label}: scan ${i} returned ${got.length} keys, expected ${want.length}; ` +
      `at ${where}: ${got[where] ?? 'nothing'} instead of ${want[where] ?? 'nothing'}`,
  );
}

function kvdHow(shape: ScanShape, call = 'rangeSync'): string {
  const parts = [shape.prefix ? 'prefix' : `gte, lt, limit: ${shape.keys}`];
  if (shape.reverse) parts.push('reverse');
  if (!shape.values) parts.push('values: false');
  return `${call}({ ${parts.join(', ')} })`;
}

function lmdbHow(shape: ScanShape): string {
  const bounds = shape.reverse
    ? '{ start: high, exclusiveStart, end: low, inclusiveEnd, reverse'
    : '{ start, end';
  return `${bounds}${shape.prefix ? '' : `, limit: ${shape.keys}`} }`;
}

function levelHow(shape: ScanShape): string {
  const parts = ['gte, lt'];
  if (!shape.prefix) parts.push(`limit: ${shape.keys}`);
  if (shape.reverse) parts.push('reverse');
  parts.push('highWaterMarkBytes');
  return `${shape.values ? 'iterator' : 'keys'}({ ${parts.join(', ')} })`;
}
