// Scenario "compaction-load": get, getSync and set throughput and latency on a store whose log
// is mostly dead (every key of dataset A written LOAD_PASSES times), first without compaction,
// then while compact() runs under a bytesPerSecond limit, in the same process on the same
// store; during ÷ without ratios, and the p99s side by side.

import { setImmediate as nextTurn } from 'node:timers/promises';
import { loadKvd, openKvd, overwriteKvd, segmentBytesFor } from '../engines/kvd.js';
import { CompactionWatch } from '../lib/compaction-watch.js';
import { probeAt, probeKeys } from '../lib/dataset.js';
import { formatNumber, formatRatio } from '../lib/format.js';
import { type Measurement, measureWindow, windowWarmupMs } from '../lib/measure.js';
import { GET_IN_FLIGHT } from '../lib/read-suite.js';
import type { Figure } from '../lib/results.js';
import { expectAllFound, figureId, type Scenario } from '../lib/scenario.js';

/** Versions of every key written before the measurements: (passes − 1) ÷ passes is dead. */
const LOAD_PASSES = 3;
/** kvd's default compaction rate limit: the rate used is at most this. */
const MAX_RATE = 64 * 2 ** 20;
/** The compaction's input at its rate limit should last this many times the measured load. */
const OUTLAST = 1.5;
/** getSync loop: one turn of the event loop every this many calls (never on a timed call). */
const YIELD_MASK = 255;
const MIB = 2 ** 20;

interface Task {
  readonly variant: string;
  readonly label: string;
  readonly how: string;
  readonly unit: 'keys/s' | 'writes/s';
  readonly inFlight: number;
  readonly op: (i: number) => Promise<number>;
}

export const scenario: Scenario = {
  id: 'compaction-load',
  title: 'get and set while compact() runs, against the same load without it',
  async run({ config, temp, fixtures }, out) {
    const data = fixtures.dataset('A');
    const dir = temp.dir('compaction-load');
    const segmentBytes = segmentBytesFor(config.keys);
    let store = await openKvd(dir, 'no', config.readers, {
      segmentBytes,
      compaction: { auto: false },
    });
    let loaded: number;
    try {
      await loadKvd(store, data);
      for (let pass = 1; pass < LOAD_PASSES; pass++) await overwriteKvd(store, data, pass);
      loaded = (await store.stats()).diskBytes;
    } finally {
      await store.close();
    }

    const probe = probeKeys(data.count, 'hit', 0xc0de);
    // The ops read `store` when they run: the store reopened below with the rate limit.
    const score = (v: Uint8Array | undefined): number => (v?.length === 100 ? 1 : 0);
    const tasks: readonly Task[] = [
      {
        variant: 'get',
        label: `kvd get ×${GET_IN_FLIGHT}`,
        how: `${GET_IN_FLIGHT} in flight`,
        unit: 'keys/s',
        inFlight: GET_IN_FLIGHT,
        op: async (i) => score(await store.get(probeAt(probe, i))),
      },
      {
        variant: 'getSync',
        label: 'kvd getSync',
        how: `1 loop, a turn of the event loop every ${YIELD_MASK + 1} calls`,
        unit: 'keys/s',
        inFlight: 1,
        op: async (i) => {
          if ((i & YIELD_MASK) === 1) await nextTurn();
          return score(store.getSync(probeAt(probe, i)));
        },
      },
      {
        variant: 'set',
        label: `kvd set ×${GET_IN_FLIGHT} (everysec)`,
        how: `${GET_IN_FLIGHT} in flight, overwrites of random keys`,
        unit: 'writes/s',
        inFlight: GET_IN_FLIGHT,
        op: async (i) => {
          await store.set(probeAt(probe, i + 12345), data.value(i % data.count));
          return 1;
        },
      },
    ];
    const loadSeconds = (tasks.length * (config.timeMs + windowWarmupMs(config.timeMs))) / 1000;
    const rate = Math.max(
      64 * 1024,
      Math.min(MAX_RATE, Math.round(loaded / (loadSeconds * OUTLAST))),
    );

    const measure = async (t: Task): Promise<Measurement> => {
      const m = await measureWindow(t.op, { timeMs: config.timeMs, inFlight: t.inFlight });
      return t.unit === 'keys/s' ? expectAllFound(t.label, m) : m;
    };
    const record = (t: Task, phase: 'without' | 'during', how: string, m: Measurement): Figure =>
      out.measured(
        {
          id: figureId('compaction-load', 'A', 'kvd', `${t.variant}.${phase}`),
          label: `${t.label}, ${phase === 'without' ? 'no compaction' : 'during compact()'}`,
          engine: 'kvd',
          dataset: 'A',
          unit: t.unit,
          better: 'higher',
          how,
        },
        m,
      );

    store = await openKvd(dir, 'everysec', config.readers, {
      segmentBytes,
      compaction: { auto: false, bytesPerSecond: rate },
    });
    try {
      // A first, untimed round: the reader pool and the JIT are warm before either phase.
      for (const t of tasks)
        await measureWindow(t.op, { timeMs: windowWarmupMs(config.timeMs), inFlight: t.inFlight });
      const without: Figure[] = [];
      for (const t of tasks) without.push(record(t, 'without', t.how, await measure(t)));

      const watch = new CompactionWatch(store);
      const during: Figure[] = [];
      for (const t of tasks) {
        const readBefore = watch.bytesRead;
        const m = await measure(t);
        const read = formatNumber((watch.bytesRead - readBefore) / MIB);
        const ended = watch.running ? '' : '; compact() ENDED before the task did';
        during.push(record(t, 'during', `${t.how}; merge read ${read} MiB meanwhile${ended}`, m));
      }
      const overlapped = watch.running;
      const result = await watch.done();
      out.value(
        {
          id: figureId('compaction-load', 'A', 'kvd', 'compact'),
          label: 'compact() under the load, then alone',
          engine: 'kvd',
          dataset: 'A',
          unit: 'ms',
          better: 'lower',
          how:
            `${result.merges} merges of ${result.segmentsMerged} segments, ` +
            `${formatNumber(result.bytesBefore / MIB)} → ${formatNumber(result.bytesAfter / MIB)} MiB, ` +
            `limit ${formatNumber(rate / MIB)} MiB/s`,
        },
        result.seconds * 1000,
      );

      const p99: string[] = [];
      tasks.forEach((t, n) => {
        const [w, d] = [without[n]!, during[n]!];
        out.ratio(
          figureId('compaction-load', 'A', 'ratio', `${t.variant}.during/without`),
          `${t.label}: during compact() ÷ without`,
          d,
          w,
        );
        p99.push(`${t.variant} ${formatRatio((d.p99Us ?? Number.NaN) / (w.p99Us ?? Number.NaN))}`);
      });
      out.note(
        `${data.count.toLocaleString('en-US')} keys written ${LOAD_PASSES} times ` +
          `(${formatNumber(loaded / MIB)} MiB of segments, ${LOAD_PASSES - 1} of ${LOAD_PASSES} ` +
          `versions dead) in segments of ${formatNumber(segmentBytes / MIB)} MiB; automatic compaction off; after an untimed warm-up round of every task, the load ` +
          `without compaction is measured first, then compact() starts and the same load is measured again while it runs`,
      );
      out.note(
        `compaction rate limit ${formatNumber(rate / MIB)} MiB/s: the loaded bytes ÷ (the ` +
          `measured tasks' time × ${OUTLAST}), at most kvd's default of 64 MiB/s, so the merge ` +
          `outlasts the load; ${overlapped ? 'it was still running after the last task' : 'it ENDED before the last task did: those figures mix both states'}`,
      );
      out.note(`p99 latency during ÷ without (lower is better): ${p99.join(', ')}`);
    } finally {
      await store.close();
      temp.remove(dir);
    }
  },
};
