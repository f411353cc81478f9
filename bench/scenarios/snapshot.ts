// Scenario "snapshot": what Store.snapshot() costs, on dataset A loaded here. The time of one
// snapshot() (each released before the next), idle and while overwrites are in flight with
// another snapshot held (the version log recording); getSync on the store and through a held
// snapshot, with the loaded key strings and with fresh ones, first with no writes since the
// snapshot, then after a tenth of the keys were overwritten (reads of those go through the
// version log); 100-key rangeSync scans of the snapshot and of the store. Ratios: snapshot ÷
// direct.

import { loadKvd, openKvd, passValue, type Snapshot, segmentBytesFor } from '../engines/kvd.js';
import { type Dataset, probeAt, probeKeys } from '../lib/dataset.js';
import { formatNumber, formatUs } from '../lib/format.js';
import { waitForSettled } from '../lib/kvd-files.js';
import { windowWarmupMs } from '../lib/measure.js';
import { pipeline } from '../lib/pipeline.js';
import { kvdScanSync } from '../lib/range-scans.js';
import { ScanProbe, type ScanShape } from '../lib/range-workload.js';
import type { Figure } from '../lib/results.js';
import { expectAllFound, figureId, type Scenario } from '../lib/scenario.js';
import {
  alternateSync,
  loadedKeyProbe,
  MAX_CREATIONS,
  startOverwrites,
  timeCreations,
} from '../lib/snapshot-workload.js';

/** Alternating rounds of every read task (the median round is kept). */
const ROUNDS = 3;
/** Every this-many-th key in load order is overwritten after the snapshot is taken. */
const OVERWRITE_EVERY = 10;
/** Sets kept in flight while creations are timed under writes. */
const WRITES_IN_FLIGHT = 256;
/** Keys whose values are compared, through the snapshot and directly, before timing. */
const CHECKS = 1000;
const VALUE_BYTES = 100;
const RANGE_SHAPE: ScanShape = {
  variant: 'range100',
  what: '100 keys',
  keys: 100,
  prefix: false,
  reverse: false,
  values: true,
};

type Phase = 'held' | 'overwritten';
const PHASE_LABEL: Record<Phase, string> = {
  held: 'no writes since',
  overwritten: `1/${OVERWRITE_EVERY} of keys overwritten since`,
};

/** A probe of keys: figure id part, words for labels, the keys. */
interface Probe {
  readonly variant: string;
  readonly what: string;
  readonly keys: readonly string[];
}

export const scenario: Scenario = {
  id: 'snapshot',
  title: 'snapshot() creation, and reads through a held snapshot against direct reads',
  async run({ config, temp, fixtures }, out) {
    const data = fixtures.dataset('A');
    const { timeMs } = config;
    const dir = temp.dir('snapshot');
    const segmentBytes = segmentBytesFor(config.keys);
    const rewritten = Array.from(
      { length: Math.floor(data.count / OVERWRITE_EVERY) },
      (_, k) => (k + 1) * OVERWRITE_EVERY - 1,
    );
    const probes: Probe[] = [
      { variant: 'loaded', what: 'loaded key strings', keys: loadedKeyProbe(data, 0x5a9) },
      { variant: 'fresh', what: 'fresh key strings', keys: probeKeys(data.count, 'hit', 0x5a9) },
    ];
    const rewrittenProbe: Probe = {
      variant: 'rewritten',
      what: 'overwritten keys only (loaded strings)',
      keys: loadedKeyProbe(data, 0x5aa, rewritten),
    };
    const scans = new ScanProbe(RANGE_SHAPE, data.count, 0x5ab);
    const base = { engine: 'kvd', dataset: 'A' } as const;
    const score = (v: Uint8Array | undefined): number => (v?.length === VALUE_BYTES ? 1 : 0);

    // Loaded with the automatic check sorting sealed segments (hint files and key runs beside
    // each), then reopened without
    // automatic compaction, so nothing runs in the background while the tasks are timed.
    process.stdout.write(`(loading ${data.count.toLocaleString('en-US')} keys into kvd…)\n`);
    const loader = await openKvd(dir, 'no', config.readers, {
      segmentBytes,
      compaction: { intervalMs: 100, bytesPerSecond: 0 },
    });
    try {
      await loadKvd(loader, data);
      await waitForSettled(loader, 120_000);
    } finally {
      await loader.close();
    }
    const store = await openKvd(dir, 'everysec', config.readers, {
      segmentBytes,
      compaction: { auto: false },
    });
    try {
      // The first scan fills the range memtable (the active segment's keys): untimed.
      kvdScanSync(store, RANGE_SHAPE, scans.at(0));

      const recordCreation = (
        variant: 'idle' | 'writes',
        label: string,
        how: string,
        times: Float64Array,
      ): Figure => {
        const max = times.reduce((a, b) => Math.max(a, b), 0);
        return out.durations(
          {
            ...base,
            id: figureId('snapshot', 'A', 'kvd', `create.${variant}`),
            label: `kvd snapshot() creation, ${label}`,
            unit: 'ms',
            better: 'lower',
            how: `${how}; max ${formatUs(max * 1000)} µs`,
          },
          times,
        );
      };
      const idle = recordCreation(
        'idle',
        'idle',
        'each released before the next, an event-loop turn between',
        await timeCreations(store, timeMs),
      );

      const snapshot = store.snapshot();
      try {
        checkValues(snapshot, store, data, rewritten.slice(0, CHECKS), 0);
        measureReads('held', snapshot, probes);
        await pipeline(rewritten.length, async (from, to) => {
          const sets: Promise<void>[] = [];
          for (let k = from; k < to; k++) {
            const n = rewritten[k]!;
            sets.push(store.set(data.keys[n]!, passValue(data, n, 1)));
          }
          await Promise.all(sets);
        });
        checkValues(snapshot, store, data, rewritten.slice(0, CHECKS), 1);
        const { versions } = (await store.stats()).snapshots;
        measureReads('overwritten', snapshot, [...probes, rewrittenProbe]);
        out.note(
          `reads: one snapshot taken after the load and held; first with no writes since, ` +
            `then after every ${OVERWRITE_EVERY}th key in load order ` +
            `(${rewritten.length.toLocaleString('en-US')} keys) was overwritten (the version log ` +
            `then held ${versions.toLocaleString('en-US')} versions). Probes: uniformly random ` +
            `present keys, either the strings the load wrote (data.keys) or equal strings made ` +
            `anew (as hits does); "overwritten keys only" draws from the overwritten ones. Before ` +
            `timing, ${CHECKS.toLocaleString('en-US')} overwritten keys were read both ways and ` +
            `compared with their old and new values. Each task: ${ROUNDS} alternating rounds of ` +
            `${formatNumber(timeMs / ROUNDS)} ms, the median round kept`,
        );
      } finally {
        snapshot.release();
      }

      // Under writes: another snapshot is held throughout, so the writer records every
      // version it displaces in the version log while creations are timed.
      const held = store.snapshot();
      const writes = startOverwrites(store, data, WRITES_IN_FLIGHT, 2);
      let underWrites: Figure;
      try {
        await new Promise((resolve) => setTimeout(resolve, windowWarmupMs(timeMs)));
        const before = writes.writes;
        const start = performance.now();
        const times = await timeCreations(store, timeMs);
        const rate = ((writes.writes - before) * 1000) / (performance.now() - start);
        const { versions } = (await store.stats()).snapshots;
        underWrites = recordCreation(
          'writes',
          'under overwrites',
          `as idle, while ${WRITES_IN_FLIGHT} sets of random keys stay in flight ` +
            `(${formatNumber(rate)} writes/s meanwhile) and another snapshot is held ` +
            `(version log: ${versions.toLocaleString('en-US')} versions at the end)`,
          times,
        );
      } finally {
        await writes.stop();
        held.release();
      }
      out.ratio(
        figureId('snapshot', 'A', 'ratio', 'create.writes/idle'),
        'snapshot() creation (median time): under overwrites ÷ idle',
        underWrites,
        idle,
      );
      out.note(
        `creation: the time of store.snapshot() alone (performance.now() either side), each ` +
          `snapshot released before the next is taken, one event-loop turn between creations; ` +
          `${formatNumber(timeMs)} ms of creations a phase (at most ${MAX_CREATIONS.toLocaleString('en-US')}); the figure is ` +
          `the median time in ms, its p50 and p99 in µs. Store: ${data.count.toLocaleString('en-US')} ` +
          `keys loaded here (segments of ${formatNumber(segmentBytes / 2 ** 20)} MiB, ` +
          `sealed segments sorted, hint files and key runs written), reopened with durability 'everysec' and no ` +
          'automatic compaction',
      );
    } finally {
      await store.close();
      temp.remove(dir);
    }

    /** getSync and 100-key rangeSync, direct and through `snapshot`; snapshot ÷ direct. */
    function measureReads(phase: Phase, snapshot: Snapshot, list: readonly Probe[]): void {
      const paths = [
        { variant: 'direct', what: 'kvd getSync', read: store },
        { variant: 'snapshot', what: 'kvd snapshot.getSync', read: snapshot },
      ] as const;
      const gets = list.flatMap((probe) =>
        paths.map((path) => ({
          probe,
          path,
          task: (i: number) => score(path.read.getSync(probeAt(probe.keys, i))),
        })),
      );
      const measured = alternateSync(
        gets.map((g) => g.task),
        { timeMs },
        ROUNDS,
      );
      const figures = gets.map((g, k) => {
        const label = `${g.path.what}, ${g.probe.what}, ${PHASE_LABEL[phase]}`;
        return out.measured(
          {
            ...base,
            id: figureId(
              'snapshot',
              'A',
              'kvd',
              `getSync.${g.probe.variant}.${g.path.variant}.${phase}`,
            ),
            label,
            unit: 'keys/s',
            better: 'higher',
            how: `caller thread; median of ${ROUNDS} alternating rounds`,
          },
          expectAllFound(label, measured[k]!),
        );
      });
      list.forEach((probe, p) => {
        out.ratio(
          figureId('snapshot', 'A', 'ratio', `getSync.${probe.variant}.${phase}`),
          `getSync, ${probe.what}, ${PHASE_LABEL[phase]}: snapshot ÷ direct`,
          figures[2 * p + 1]!,
          figures[2 * p]!,
        );
      });

      const ranges = [
        { variant: 'direct', what: 'kvd rangeSync', read: store },
        { variant: 'snapshot', what: 'kvd snapshot.rangeSync', read: snapshot },
      ] as const;
      const scanned = alternateSync(
        ranges.map((r) => (i: number) => kvdScanSync(r.read, RANGE_SHAPE, scans.at(i))),
        { timeMs, keysPerOp: RANGE_SHAPE.keys },
        ROUNDS,
      );
      const [direct, through] = ranges.map((r, k) => {
        const label = `${r.what}, ${RANGE_SHAPE.what}, ${PHASE_LABEL[phase]}`;
        return out.measured(
          {
            ...base,
            id: figureId('snapshot', 'A', 'kvd', `${RANGE_SHAPE.variant}.${r.variant}.${phase}`),
            label,
            unit: 'keys/s',
            better: 'higher',
            how: `caller thread; gte, lt, limit: ${RANGE_SHAPE.keys}; median of ${ROUNDS} alternating rounds`,
          },
          expectAllFound(label, scanned[k]!),
        );
      });
      out.ratio(
        figureId('snapshot', 'A', 'ratio', `${RANGE_SHAPE.variant}.${phase}`),
        `rangeSync, ${RANGE_SHAPE.what}, ${PHASE_LABEL[phase]}: snapshot ÷ direct`,
        through!,
        direct!,
      );
    }
  },
};

/**
 * Throws unless, for the keys at load positions `positions`, the snapshot returns the loaded
 * value and the store the value of write pass `pass` (0: the loaded one).
 */
function checkValues(
  snapshot: Snapshot,
  store: Pick<Snapshot, 'getSync'>,
  data: Dataset,
  positions: readonly number[],
  pass: number,
): void {
  for (const n of positions) {
    const key = data.keys[n]!;
    if (!snapshot.getSync(key)?.equals(data.value(n)))
      throw new Error(`snapshot: ${key} does not read as loaded through the snapshot`);
    if (!store.getSync(key)?.equals(passValue(data, n, pass)))
      throw new Error(`snapshot: ${key} does not read as written in pass ${pass} directly`);
  }
}
