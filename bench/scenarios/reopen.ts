// Scenario "reopen": time from nothing open to a usable database, for a database already on
// disk (closed cleanly just before): kvd rebuilds its index from hint files and segments; the
// peers open their files. One get after each open proves the data is there (not timed).

import { openKvd } from '../engines/kvd.js';
import { openLevel } from '../engines/level.js';
import { openLmdb } from '../engines/lmdb.js';
import { openSqlite, selectValue } from '../engines/sqlite.js';
import { type DatasetId, hitKey } from '../lib/dataset.js';
import { sqliteFile } from '../lib/fixtures.js';
import { formatNumber } from '../lib/format.js';
import type { Figure, ResultBuilder } from '../lib/results.js';
import { figureId, type Scenario, type ScenarioContext } from '../lib/scenario.js';
import { median } from '../lib/stats.js';

/** Timed opens per engine (after one untimed open/close). */
const ROUNDS = 3;

export const scenario: Scenario = {
  id: 'reopen',
  title: 'open an existing database (close, then open again)',
  async run(context, out) {
    out.note(
      `median of ${ROUNDS} opens, each after a clean close; kvd's open includes starting its ` +
        'writer and reader threads and recovering the index; files are in the page cache',
    );
    await reopenDataset(context, out, 'A');
    await reopenDataset(context, out, 'B');
  },
};

async function reopenDataset(
  context: ScenarioContext,
  out: ResultBuilder,
  id: DatasetId,
): Promise<void> {
  const { config, fixtures } = context;
  const spec = fixtures.spec(id);
  const probe = hitKey(spec.count >> 1);

  /** open() returns a get and a close; rounds+1 opens, the first untimed. */
  const time = async (
    open: () => Promise<{
      get: (key: string) => Promise<Uint8Array | undefined> | Uint8Array | undefined;
      close: () => Promise<unknown> | unknown;
    }>,
  ): Promise<number[]> => {
    const times: number[] = [];
    for (let round = 0; round <= ROUNDS; round++) {
      const start = performance.now();
      const db = await open();
      const ms = performance.now() - start;
      try {
        const value = await db.get(probe);
        if (value?.length !== spec.valueBytes) throw new Error(`reopened database lacks ${probe}`);
      } finally {
        await db.close();
      }
      if (round > 0) times.push(ms);
    }
    return times;
  };
  const figure = (engine: Figure['engine'], label: string, times: number[]): Figure =>
    out.value(
      {
        id: figureId('reopen', id, engine, 'open'),
        label,
        engine,
        dataset: id,
        unit: 'ms',
        better: 'lower',
        how: `${spec.count.toLocaleString('en-US')} keys; runs ${times.map(formatNumber).join(', ')} ms`,
      },
      median(times),
      times.length,
    );

  const kvdDir = await fixtures.dir('kvd', id);
  const kvd = figure(
    'kvd',
    'kvd Store.open',
    await time(async () => {
      const store = await openKvd(kvdDir, 'everysec', config.readers);
      return { get: (k) => store.getSync(k), close: () => store.close() };
    }),
  );
  const lmdbDir = await fixtures.dir('lmdb', id);
  const lmdb = figure(
    'lmdb',
    'lmdb open',
    await time(async () => {
      const db = openLmdb(lmdbDir, true);
      return { get: (k) => db.get(k), close: () => db.close() };
    }),
  );
  const levelDir = await fixtures.dir('classic-level', id);
  const level = figure(
    'classic-level',
    'classic-level open',
    await time(async () => {
      const db = await openLevel(levelDir);
      return { get: (k) => db.get(k), close: () => db.close() };
    }),
  );
  const file = sqliteFile(await fixtures.dir('sqlite', id));
  const sqlite = figure(
    'sqlite',
    'sqlite open',
    await time(async () => {
      const db = openSqlite(file, spec.valueBytes, true);
      const select = selectValue(db);
      return { get: select, close: () => db.close() };
    }),
  );
  // Times: below 1 means kvd opens faster.
  out.ratio(
    figureId('reopen', id, 'ratio', 'kvd/lmdb'),
    `${id}: kvd open time ÷ lmdb (lower is better)`,
    kvd,
    lmdb,
  );
  out.ratio(
    figureId('reopen', id, 'ratio', 'kvd/level'),
    `${id}: kvd open time ÷ classic-level (lower is better)`,
    kvd,
    level,
  );
  out.ratio(
    figureId('reopen', id, 'ratio', 'kvd/sqlite'),
    `${id}: kvd open time ÷ sqlite (lower is better)`,
    kvd,
    sqlite,
  );
}
