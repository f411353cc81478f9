// Scenario "load": time to write every key of datasets A and B into an empty database, in
// the same shuffled order for every engine. The first database of each engine becomes the
// fixture the read scenarios use. Ratios pair like with like: writes acknowledged before any
// sync (kvd 'no', lmdb noSync, classic-level and SQLite as configured here), and writes synced
// per commit (kvd 'always', lmdb's default commits); kvd 'everysec' is shown alone.

import { type Durability, loadKvd, openKvd } from '../engines/kvd.js';
import { loadLevel, openLevel } from '../engines/level.js';
import { loadLmdbAsync, loadLmdbSync, openLmdb } from '../engines/lmdb.js';
import { loadSqlite, openSqlite } from '../engines/sqlite.js';
import type { DatasetId } from '../lib/dataset.js';
import { settleKvdFixture, sqliteFile } from '../lib/fixtures.js';
import { measureOnce } from '../lib/measure.js';
import { CHUNK, DEPTH } from '../lib/pipeline.js';
import type { Figure, ResultBuilder } from '../lib/results.js';
import { figureId, type Scenario, type ScenarioContext } from '../lib/scenario.js';

export const scenario: Scenario = {
  id: 'load',
  title: 'bulk load into an empty database',
  async run(context, out) {
    out.note(
      `one run per figure (a load is long enough to average itself); rate = keys ÷ time until ` +
        `the last write was acknowledged (promise resolved / call returned), no final sync; ` +
        `async loaders issue ${CHUNK} writes a tick with ${DEPTH} ticks in flight`,
    );
    out.note(
      'acknowledged means: kvd no = appended (page cache), synced by the OS; kvd everysec = the ' +
        'same, synced within 1 s; kvd always = fdatasynced (one sync covers a writer batch); lmdb ' +
        'put noSync = committed, not synced; lmdb put = committed with lmdb-js defaults (synced ' +
        'commits, one per tick); lmdb putSync = 10,000 puts a synced transactionSync; ' +
        'classic-level batch = written to the WAL, not synced; sqlite = WAL, synchronous=NORMAL ' +
        '(no sync per commit, only at checkpoints), 10,000 rows a transaction',
    );
    await loadDataset(context, out, 'A');
    await loadDataset(context, out, 'B');
  },
};

async function loadDataset(
  context: ScenarioContext,
  out: ResultBuilder,
  id: DatasetId,
): Promise<void> {
  const { fixtures, temp, config } = context;
  const data = fixtures.dataset(id);
  const figure = (
    engine: Figure['engine'],
    variant: string,
    label: string,
    how: string,
    ms: number,
  ): Figure =>
    out.value(
      {
        id: figureId('load', id, engine, variant),
        label,
        engine,
        dataset: id,
        unit: 'keys/s',
        better: 'higher',
        how: `${how}; ${(ms / 1000).toFixed(2)} s`,
      },
      (data.count * 1000) / ms,
    );
  /** Keeps the first load of an engine as its fixture, deletes later ones. */
  const keepOrRemove = (engine: 'kvd' | 'lmdb' | 'classic-level' | 'sqlite', dir: string): void => {
    if (fixtures.has(engine, id)) temp.remove(dir);
    else fixtures.adopt(engine, id, dir);
  };

  const kvd = async (durability: Durability): Promise<Figure> => {
    const dir = temp.dir(`load-kvd-${durability}-${id}`);
    const store = await openKvd(dir, durability, config.readers);
    let ms: number;
    try {
      ms = await measureOnce(() => loadKvd(store, data));
    } finally {
      await store.close();
    }
    // The fixture the read scenarios open must not sort its segments while they measure.
    if (!fixtures.has('kvd', id)) await settleKvdFixture(dir, config.readers);
    keepOrRemove('kvd', dir);
    return figure('kvd', `set.${durability}`, `kvd set (${durability})`, 'batched set', ms);
  };
  await kvd('everysec');
  const kvdNo = await kvd('no');
  const kvdAlways = await kvd('always');

  const lmdbAsync = async (noSync: boolean): Promise<number> => {
    const dir = temp.dir(`load-lmdb-put${noSync ? '-nosync' : ''}-${id}`);
    const lmdb = openLmdb(dir, false, noSync);
    let ms: number;
    try {
      ms = await measureOnce(() => loadLmdbAsync(lmdb, data));
    } finally {
      await lmdb.close();
    }
    // Only a whole load becomes the read scenarios' fixture (the noSync one never does).
    if (noSync) temp.remove(dir);
    else keepOrRemove('lmdb', dir);
    return ms;
  };
  let ms = await lmdbAsync(false);
  const lmdbPut = figure('lmdb', 'put', 'lmdb put (synced commits)', 'async put', ms);
  ms = await lmdbAsync(true);
  const lmdbPutNoSync = figure('lmdb', 'put.noSync', 'lmdb put (noSync)', 'async put', ms);

  let dir: string;

  dir = temp.dir(`load-lmdb-putsync-${id}`);
  const lmdb = openLmdb(dir);
  try {
    ms = await measureOnce(() => loadLmdbSync(lmdb, data));
  } finally {
    await lmdb.close();
  }
  keepOrRemove('lmdb', dir);
  const lmdbPutSync = figure(
    'lmdb',
    'putSync',
    'lmdb putSync in transactionSync',
    '10,000 per txn',
    ms,
  );

  dir = temp.dir(`load-level-${id}`);
  const level = await openLevel(dir);
  try {
    ms = await measureOnce(() => loadLevel(level, data));
  } finally {
    await level.close();
  }
  keepOrRemove('classic-level', dir);
  const levelBatch = figure(
    'classic-level',
    'batch',
    'classic-level batch',
    `${CHUNK} per batch`,
    ms,
  );

  dir = temp.dir(`load-sqlite-${id}`);
  const sqlite = openSqlite(sqliteFile(dir), data.spec.valueBytes);
  try {
    ms = await measureOnce(() => loadSqlite(sqlite, data));
  } finally {
    sqlite.close();
  }
  keepOrRemove('sqlite', dir);
  const sqliteInsert = figure(
    'sqlite',
    'insert',
    'sqlite INSERT in transactions',
    '10,000 per txn',
    ms,
  );

  const r = (variant: string, label: string, k: Figure, p: Figure) =>
    out.ratio(figureId('load', id, 'ratio', variant), `${id}: ${label}`, k, p);
  // No sync: acknowledged once in the OS's page cache.
  r('no/lmdb.put.noSync', 'no sync: kvd set (no) ÷ lmdb put (noSync)', kvdNo, lmdbPutNoSync);
  r('no/level.batch', 'no sync: kvd set (no) ÷ classic-level batch', kvdNo, levelBatch);
  r('no/sqlite', 'no sync: kvd set (no) ÷ sqlite INSERT txn (NORMAL)', kvdNo, sqliteInsert);
  // Synced per commit: acknowledged once on disk.
  r('always/lmdb.put', 'synced: kvd set (always) ÷ lmdb put (synced commits)', kvdAlways, lmdbPut);
  r('always/lmdb.putSync', 'synced: kvd set (always) ÷ lmdb putSync txn', kvdAlways, lmdbPutSync);
}
