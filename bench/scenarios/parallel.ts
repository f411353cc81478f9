// Scenario "parallel": total read throughput when several clients read at once, dataset A.
// Only one Store may own a directory, so kvd's clients are async loops on the thread that
// opened it (its reader pool does the reads); lmdb and SQLite, which allow a handle per
// thread, get one worker thread per client.

import { openKvd } from '../engines/kvd.js';
import { probeAt, probeKeys } from '../lib/dataset.js';
import { sqliteFile } from '../lib/fixtures.js';
import { measureWindow } from '../lib/measure.js';
import { GET_IN_FLIGHT, MANY_KEYS } from '../lib/read-suite.js';
import type { Figure } from '../lib/results.js';
import { expectAllFound, figureId, type Scenario } from '../lib/scenario.js';
import type { ReadJob } from '../lib/thread-messages.js';
import { measureInThreads, sumThreads } from '../lib/threads.js';

export const scenario: Scenario = {
  id: 'parallel',
  title: 'several clients reading at once (dataset A, present keys)',
  async run({ config, fixtures }, out) {
    const spec = fixtures.spec('A');
    const clients = config.clients;
    const timeMs = config.timeMs;
    const base = { dataset: 'A', unit: 'keys/s', better: 'higher' } as const;
    out.note(
      `kvd: ${clients} async client loops on the main thread, each keeping ${GET_IN_FLIGHT} gets ` +
        `(or 1 getMany of ${MANY_KEYS}) in flight: ${clients * GET_IN_FLIGHT} gets outstanding, served ` +
        `by ${config.readers} reader threads; peers: ${clients} worker threads, each with its own ` +
        'handle, each reading synchronously as fast as it can; totals are sums of per-client rates',
    );

    const probe = probeKeys(spec.count, 'hit', 0xc11e);
    const batches = Array.from({ length: Math.floor(probe.length / MANY_KEYS) }, (_, b) =>
      probe.slice(b * MANY_KEYS, (b + 1) * MANY_KEYS),
    );
    const ok = (v: Uint8Array | undefined): number => (v?.length === spec.valueBytes ? 1 : 0);
    const store = await openKvd(await fixtures.dir('kvd', 'A'), 'everysec', config.readers);
    let kvdGet: Figure;
    let kvdMany: Figure;
    try {
      // The clients' loops all live in one window: C loops × K in flight = C·K loops of 1.
      const get = await measureWindow(async (i) => ok(await store.get(probeAt(probe, i))), {
        timeMs,
        inFlight: clients * GET_IN_FLIGHT,
      });
      kvdGet = out.measured(
        {
          ...base,
          id: figureId('parallel', 'A', 'kvd', 'get'),
          engine: 'kvd',
          label: `kvd get, ${clients} clients × ${GET_IN_FLIGHT}`,
          how: `${config.readers} readers`,
        },
        expectAllFound('kvd get', get),
      );
      const many = await measureWindow(
        async (i) => {
          let n = 0;
          for (const v of await store.getMany(batches[i % batches.length]!)) n += ok(v);
          return n;
        },
        { timeMs, inFlight: clients, keysPerOp: MANY_KEYS },
      );
      kvdMany = out.measured(
        {
          ...base,
          id: figureId('parallel', 'A', 'kvd', 'getMany'),
          engine: 'kvd',
          label: `kvd getMany(${MANY_KEYS}), ${clients} clients × 1`,
          how: `${config.readers} readers`,
        },
        expectAllFound('kvd getMany', many),
      );
    } finally {
      await store.close();
    }

    const jobs = (path: string): ReadJob[] =>
      Array.from({ length: clients }, (_, w) => ({
        path,
        count: spec.count,
        valueBytes: spec.valueBytes,
        timeMs,
        seed: 0xc11e + w,
      }));
    const lmdbParts = await measureInThreads(
      new URL('../workers/lmdb-reader.js', import.meta.url),
      jobs(await fixtures.dir('lmdb', 'A')),
    );
    const lmdb = out.measured(
      {
        ...base,
        id: figureId('parallel', 'A', 'lmdb', 'get'),
        engine: 'lmdb',
        label: `lmdb get, ${clients} threads`,
        how: 'sum of per-thread rates',
      },
      expectAllFound('lmdb threads', sumThreads(lmdbParts)),
    );
    const sqliteParts = await measureInThreads(
      new URL('../workers/sqlite-reader.js', import.meta.url),
      jobs(sqliteFile(await fixtures.dir('sqlite', 'A'))),
    );
    const sqlite = out.measured(
      {
        ...base,
        id: figureId('parallel', 'A', 'sqlite', 'select'),
        engine: 'sqlite',
        label: `sqlite SELECT, ${clients} threads`,
        how: 'sum of per-thread rates',
      },
      expectAllFound('sqlite threads', sumThreads(sqliteParts)),
    );
    out.ratio(
      figureId('parallel', 'A', 'ratio', 'get/lmdb'),
      `kvd get (${clients}×${GET_IN_FLIGHT}) ÷ lmdb get (${clients} threads)`,
      kvdGet,
      lmdb,
    );
    out.ratio(
      figureId('parallel', 'A', 'ratio', 'getMany/lmdb'),
      `kvd getMany (${clients}×1) ÷ lmdb get (${clients} threads)`,
      kvdMany,
      lmdb,
    );
    out.ratio(
      figureId('parallel', 'A', 'ratio', 'get/sqlite'),
      `kvd get (${clients}×${GET_IN_FLIGHT}) ÷ sqlite (${clients} threads)`,
      kvdGet,
      sqlite,
    );
  },
};
