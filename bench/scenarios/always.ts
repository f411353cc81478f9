// Scenario "always": durable writes. kvd with durability 'always' and 64 sets in flight
// (group commit: one fdatasync covers every write of a batch) against the disk's own rate of
// append + fdatasync, one at a time, and against peers' synced writes with 64 in flight. Also
// the machine's price of the two thread hand-offs such a round trip makes (lib/hand-offs.ts).
// The three figures of the targets (the fdatasync rate, kvd, lmdb) are measured in alternating
// passes (lib/alternate.ts), each reported by its median pass: on this noisy 2-core VM one pass
// of each, a few seconds apart, moved the ratios by ±10% between runs of the same code.

import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openKvd } from '../engines/kvd.js';
import { openLevel } from '../engines/level.js';
import { openLmdb } from '../engines/lmdb.js';
import { type AlternatedRuns, alternate, passesText } from '../lib/alternate.js';
import { hitKey } from '../lib/dataset.js';
import { measureHandOffs } from '../lib/hand-offs.js';
import { measureSync, measureWindow } from '../lib/measure.js';
import type { Figure } from '../lib/results.js';
import { figureId, type Scenario } from '../lib/scenario.js';

/** Durable writes kept in flight. */
const IN_FLIGHT = 64;
/** Alternating passes of the fdatasync loop, kvd and lmdb (each pass `--time` long). */
const PASSES = 3;
/** Bytes appended per fdatasync in the disk-rate loop (a kvd record of dataset A is ~140 B). */
const RECORD_BYTES = 128;
/**
 * How long the hand-off probe's worker works before answering, µs: a short wait, and one as
 * long as a kvd writer's turn under 'always' (append, fdatasync, publish: ~250–450 µs).
 */
const HAND_OFF_BUSY_US = [50, 400] as const;

export const scenario: Scenario = {
  id: 'always',
  title: `durable writes, ${IN_FLIGHT} in flight, vs the disk's fsync rate`,
  async run({ config, temp, fixtures }, out) {
    const data = fixtures.dataset('A');
    const timeMs = config.timeMs;
    const keyAt = (i: number): string => hitKey(i % data.count);
    const valueAt = (i: number): Buffer => data.value(i % data.count);
    const base = { dataset: 'A', unit: 'writes/s', better: 'higher' } as const;
    out.note(
      `fsync rate: append ${RECORD_BYTES} B then fdatasync, one at a time, on a file in ${temp.root}; ` +
        'the writes of every engine land on that same file system',
    );

    const dir = temp.dir('always');
    // The same loop into space written with zeros beforehand, as kvd's writer preallocates
    // under 'always': fdatasync then need not commit a new file size.
    const pre = openSync(join(dir, 'fsync-preallocated.bin'), 'w+');
    try {
      const record = Buffer.alloc(RECORD_BYTES, 7);
      const zeros = Buffer.alloc(1 << 20);
      const spanBytes = 64 << 20;
      for (let at = 0; at < spanBytes; at += zeros.length)
        writeSync(pre, zeros, 0, zeros.length, at);
      fdatasyncSync(pre);
      const slots = Math.floor(spanBytes / RECORD_BYTES);
      out.measured(
        {
          ...base,
          dataset: undefined,
          id: figureId('always', undefined, 'fs', 'fdatasync.preallocated'),
          engine: 'fs',
          unit: 'syncs/s',
          label: 'write + fdatasync, preallocated file',
          how: '1 at a time, into zeros written before',
        },
        measureSync(
          (i) => {
            writeSync(pre, record, 0, RECORD_BYTES, (i % slots) * RECORD_BYTES);
            fdatasyncSync(pre);
            return 1;
          },
          { timeMs },
        ),
      );
    } finally {
      closeSync(pre);
    }

    const rounds = Math.max(100, Math.round(timeMs * 2));
    for (const busyUs of HAND_OFF_BUSY_US) {
      out.durations(
        {
          id: figureId('always', undefined, 'node-floor', `hand-offs.${busyUs}us`),
          engine: 'node-floor',
          unit: 'ms',
          better: 'lower',
          label: `two postMessage hops, the waiting thread idle ${busyUs} µs`,
          how: `round trip to a worker that spins ${busyUs} µs, minus ${busyUs} µs; median`,
        },
        await measureHandOffs(busyUs, rounds),
      );
    }
    out.note(
      'hand-offs: a message to a worker thread that spins for 50 or 400 µs and answers; ' +
        'the round trip minus that time is two hops, the second waking a caller that slept ' +
        "the whole time, as a kvd caller sleeps through its writer's turn",
    );

    // The fdatasync loop, kvd and lmdb take turns; the stores stay open between their passes
    // and each pass goes on with the keys after the last one's. kvd's automatic compaction is
    // off: its first check (10 s after open) would otherwise sort the sealed segments while
    // some other pass runs, which a single pass of each never saw (it ended first).
    const fd = openSync(join(dir, 'fsync.bin'), 'a');
    const record = Buffer.alloc(RECORD_BYTES, 7);
    const store = await openKvd(temp.dir('always-kvd'), 'always', config.readers, {
      compaction: { auto: false },
    });
    const lmdbDb = openLmdb(temp.dir('always-lmdb'));
    let kvdNext = 0;
    let lmdbNext = 0;
    let runs: AlternatedRuns[];
    try {
      runs = await alternate(
        [
          () =>
            measureSync(
              () => {
                writeSync(fd, record);
                fdatasyncSync(fd);
                return 1;
              },
              { timeMs },
            ),
          () =>
            measureWindow(
              async () => {
                const i = kvdNext++;
                await store.set(keyAt(i), valueAt(i));
                return 1;
              },
              { timeMs, inFlight: IN_FLIGHT },
            ),
          () =>
            measureWindow(
              async () => {
                const i = lmdbNext++;
                await lmdbDb.put(keyAt(i), valueAt(i));
                await lmdbDb.flushed;
                return 1;
              },
              { timeMs, inFlight: IN_FLIGHT },
            ),
        ],
        PASSES,
      );
    } finally {
      closeSync(fd);
      await store.close();
      await lmdbDb.close();
    }
    const [fsyncRuns, kvdRuns, lmdbRuns] = [runs[0]!, runs[1]!, runs[2]!];
    const fsync = out.measured(
      {
        ...base,
        dataset: undefined,
        id: figureId('always', undefined, 'fs', 'fdatasync'),
        engine: 'fs',
        unit: 'syncs/s',
        label: 'write + fdatasync',
        how: `1 at a time; ${passesText(fsyncRuns, 'syncs/s')}`,
      },
      fsyncRuns.median,
    );
    const kvd = out.measured(
      {
        ...base,
        id: figureId('always', 'A', 'kvd', 'set'),
        engine: 'kvd',
        label: "kvd set (durability 'always')",
        how: `${IN_FLIGHT} in flight; ${passesText(kvdRuns, 'writes/s')}`,
      },
      kvdRuns.median,
    );
    const lmdb = out.measured(
      {
        ...base,
        id: figureId('always', 'A', 'lmdb', 'put'),
        engine: 'lmdb',
        label: 'lmdb put (synced commits)',
        how: `${IN_FLIGHT} in flight, defaults; ${passesText(lmdbRuns, 'writes/s')}`,
      },
      lmdbRuns.median,
    );

    const level = await openLevel(temp.dir('always-level'));
    let levelPut: Figure;
    try {
      levelPut = out.measured(
        {
          ...base,
          id: figureId('always', 'A', 'classic-level', 'put'),
          engine: 'classic-level',
          label: 'classic-level put {sync: true}',
          how: `${IN_FLIGHT} in flight`,
        },
        await measureWindow(
          async (i) => {
            await level.put(keyAt(i), valueAt(i), { sync: true });
            return 1;
          },
          { timeMs, inFlight: IN_FLIGHT },
        ),
      );
    } finally {
      await level.close();
    }

    const sqliteDb = new Database(join(temp.dir('always-sqlite'), 'kv.sqlite'));
    let sqlite: Figure;
    try {
      sqliteDb.pragma('journal_mode = WAL');
      sqliteDb.pragma('synchronous = FULL');
      sqliteDb.exec('CREATE TABLE kv (k TEXT PRIMARY KEY NOT NULL, v BLOB NOT NULL) WITHOUT ROWID');
      const upsert = sqliteDb.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)');
      sqlite = out.measured(
        {
          ...base,
          id: figureId('always', 'A', 'sqlite', 'insert'),
          engine: 'sqlite',
          label: 'sqlite INSERT, synchronous=FULL',
          how: '1 at a time (autocommit)',
        },
        measureSync((i) => upsert.run(keyAt(i), valueAt(i)).changes, { timeMs }),
      );
    } finally {
      sqliteDb.close();
    }

    out.ratio(
      figureId('always', 'A', 'ratio', 'kvd/fsync'),
      `kvd 'always' ×${IN_FLIGHT} ÷ fdatasync rate`,
      kvd,
      fsync,
    );
    out.ratio(
      figureId('always', 'A', 'ratio', 'kvd/lmdb'),
      `kvd 'always' ÷ lmdb put (both ×${IN_FLIGHT})`,
      kvd,
      lmdb,
    );
    out.ratio(
      figureId('always', 'A', 'ratio', 'kvd/level'),
      `kvd 'always' ÷ classic-level sync put (both ×${IN_FLIGHT})`,
      kvd,
      levelPut,
    );
    out.ratio(
      figureId('always', 'A', 'ratio', 'kvd/sqlite'),
      `kvd 'always' ÷ sqlite synchronous=FULL`,
      kvd,
      sqlite,
    );
  },
};
