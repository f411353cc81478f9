// Scenario "expiry": what the active expiry cycle costs. On dataset A plus a fifth as many keys
// with a TTL, get, getSync and set are measured with the cycle off (expiryCycleMs 0), with it
// idle (ten cycles a second, nothing expired), and while it deletes the TTL keys, which all
// expire at once just before; during ÷ off ratios, and how fast the cycle deleted them.

import { setImmediate as nextTurn } from 'node:timers/promises';
import { loadKvd, openKvd, type Store, segmentBytesFor } from '../engines/kvd.js';
import { probeAt, probeKeys } from '../lib/dataset.js';
import { formatNumber } from '../lib/format.js';
import { type Measurement, measureWindow, windowWarmupMs } from '../lib/measure.js';
import { GET_IN_FLIGHT } from '../lib/read-suite.js';
import type { Figure } from '../lib/results.js';
import { expectAllFound, figureId, type Scenario } from '../lib/scenario.js';

/** getSync loop: one turn of the event loop every this many calls (never on a timed call). */
const YIELD_MASK = 255;
/** TTL keys: this fraction of dataset A's count. */
const TTL_SHARE = 0.2;
/** Alternating off/idle rounds. */
const ROUNDS = 3;

type Phase = 'off' | 'idle' | 'busy';

export const scenario: Scenario = {
  id: 'expiry',
  title: 'get and set with the active expiry cycle off, idle, and deleting expired keys',
  async run({ config, temp, fixtures }, out) {
    const data = fixtures.dataset('A');
    const dir = temp.dir('expiry');
    const segmentBytes = segmentBytesFor(config.keys);
    const ttlKeys = Math.max(1000, Math.round(data.count * TTL_SHARE));
    const probe = probeKeys(data.count, 'hit', 0xe1);
    const open = (expiryCycleMs: number) =>
      openKvd(dir, 'everysec', config.readers, {
        segmentBytes,
        compaction: { auto: false },
        expiryCycleMs,
      });
    let store: Store = await open(0);
    const score = (v: Uint8Array | undefined): number => (v?.length === 100 ? 1 : 0);
    const tasks = [
      {
        variant: 'get',
        label: `kvd get ×${GET_IN_FLIGHT}`,
        inFlight: GET_IN_FLIGHT,
        reads: true,
        op: async (i: number) => score(await store.get(probeAt(probe, i))),
      },
      {
        variant: 'getSync',
        label: 'kvd getSync',
        inFlight: 1,
        reads: true,
        op: async (i: number) => {
          if ((i & YIELD_MASK) === 1) await nextTurn();
          return score(store.getSync(probeAt(probe, i)));
        },
      },
      {
        variant: 'set',
        label: `kvd set ×${GET_IN_FLIGHT} (everysec)`,
        inFlight: GET_IN_FLIGHT,
        reads: false,
        op: async (i: number) => {
          await store.set(probeAt(probe, i + 777), data.value(i % data.count));
          return 1;
        },
      },
    ];
    /** Writes the TTL keys, all expiring `inMs` from now. */
    const writeTtlKeys = async (inMs: number) => {
      const expiresAt = Date.now() + inMs;
      for (let from = 0; from < ttlKeys; from += 1024) {
        const sets: Promise<void>[] = [];
        for (let n = from; n < Math.min(ttlKeys, from + 1024); n++) {
          sets.push(store.set(`ttl:${n}`, data.value(n % data.count), { expiresAt }));
        }
        await Promise.all(sets);
      }
      return expiresAt;
    };
    /** Each task's throughput in this phase (one window each). */
    const measureOnce = async (): Promise<Measurement[]> => {
      const ms: Measurement[] = [];
      for (const t of tasks) {
        const m = await measureWindow(t.op, { timeMs: config.timeMs, inFlight: t.inFlight });
        ms.push(t.reads ? expectAllFound(t.label, m) : m);
      }
      return ms;
    };
    const record = (phase: Phase, runs: Measurement[][]): Figure[] =>
      tasks.map((t, n) =>
        out.measured(
          {
            id: figureId('expiry', 'A', 'kvd', `${t.variant}.${phase}`),
            label: `${t.label}, expiry cycle ${phase}`,
            engine: 'kvd',
            dataset: 'A',
            unit: t.reads ? 'keys/s' : 'writes/s',
            better: 'higher',
            how: `${t.inFlight} in flight; median of ${runs.length} windows`,
          },
          median(runs.map((r) => r[n]!)),
        ),
      );
    try {
      await loadKvd(store, data);
      await writeTtlKeys(3_600_000);
      for (const t of tasks) {
        await measureWindow(t.op, { timeMs: windowWarmupMs(config.timeMs), inFlight: t.inFlight });
      }
      // Off and idle alternate (the store reopened each time), so drift in the machine's
      // speed falls on both alike; the medians are compared.
      const offRuns: Measurement[][] = [];
      const idleRuns: Measurement[][] = [];
      for (let round = 0; round < ROUNDS; round++) {
        offRuns.push(await measureOnce());
        await store.close();
        store = await open(100);
        idleRuns.push(await measureOnce());
        await store.close();
        store = await open(round === ROUNDS - 1 ? 100 : 0);
      }
      const off = record('off', offRuns);
      const idle = record('idle', idleRuns);
      // Every TTL key expires at once, a moment from now; the cycle deletes them while the
      // tasks run (the keys counted before and after say how far it got).
      const before = (await store.stats()).keys;
      const expiresAt = await writeTtlKeys(200);
      while (Date.now() <= expiresAt) await nextTurn();
      const busy = record('busy', [await measureOnce()]);
      let left = (await store.stats()).keys - (before - ttlKeys);
      while (left > 0) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        left = (await store.stats()).keys - (before - ttlKeys);
      }
      const seconds = (Date.now() - expiresAt) / 1000;
      out.value(
        {
          id: figureId('expiry', 'A', 'kvd', 'reapRate'),
          label: 'expired keys deleted by the cycle, per second',
          engine: 'kvd',
          dataset: 'A',
          unit: 'keys/s',
          better: 'higher',
          how: `${ttlKeys.toLocaleString('en-US')} keys expiring at once, all gone ${formatNumber(seconds)} s after (under the load above)`,
        },
        ttlKeys / seconds,
      );
      tasks.forEach((t, n) => {
        out.ratio(
          figureId('expiry', 'A', 'ratio', `${t.variant}.idle/off`),
          `${t.label}: cycle idle ÷ off`,
          idle[n]!,
          off[n]!,
        );
        out.ratio(
          figureId('expiry', 'A', 'ratio', `${t.variant}.busy/off`),
          `${t.label}: cycle deleting ÷ off`,
          busy[n]!,
          off[n]!,
        );
      });
      out.note(
        `${data.count.toLocaleString('en-US')} keys of A plus ${ttlKeys.toLocaleString('en-US')} keys with a TTL; ` +
          "'off': expiryCycleMs 0 (TTL keys an hour away); 'idle': expiryCycleMs 100, nothing expired; " +
          "'busy': the TTL keys rewritten to expire at once just before the tasks start, the cycle deleting them meanwhile",
      );
    } finally {
      await store.close();
      temp.remove(dir);
    }
  },
};

/** The measurement whose throughput is the median of `runs` (odd counts: the middle one). */
function median(runs: readonly Measurement[]): Measurement {
  const sorted = [...runs].sort((a, b) => a.perSec - b.perSec);
  return sorted[Math.floor(sorted.length / 2)]!;
}
