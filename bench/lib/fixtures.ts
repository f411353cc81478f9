// Owns the loaded databases scenarios share: each (engine, dataset) is loaded once per run,
// either by the load scenario (which hands its result over) or here on first use, untimed.
// Every fixture is closed when handed out; a scenario opens and closes its own handles.

import { join } from 'node:path';
import { loadKvd, openKvd, type Store } from '../engines/kvd.js';
import { loadLevel, openLevel } from '../engines/level.js';
import { loadLmdbSync, openLmdb } from '../engines/lmdb.js';
import { loadSqlite, openSqlite } from '../engines/sqlite.js';
import type { BenchConfig } from './config.js';
import { Dataset, type DatasetId, type DatasetSpec } from './dataset.js';
import { waitForSettled } from './kvd-files.js';
import type { TempDirs } from './temp-dirs.js';

export type StoreEngine = 'kvd' | 'lmdb' | 'classic-level' | 'sqlite';

/** The SQLite database file inside a fixture directory. */
export function sqliteFile(dir: string): string {
  return join(dir, 'kv.sqlite');
}

export class Fixtures {
  private readonly datasets = new Map<DatasetId, Dataset>();
  private readonly dirs = new Map<string, string>();

  constructor(
    private readonly config: BenchConfig,
    private readonly temp: TempDirs,
  ) {}

  /** The size and value length of dataset `id` for this run. */
  spec(id: DatasetId): DatasetSpec {
    return id === 'A'
      ? { id, count: this.config.keys, valueBytes: 100 }
      : { id, count: this.config.bigKeys, valueBytes: 4096 };
  }

  /** Dataset `id`, built on first use. */
  dataset(id: DatasetId): Dataset {
    let data = this.datasets.get(id);
    if (!data) {
      data = new Dataset(this.spec(id));
      this.datasets.set(id, data);
    }
    return data;
  }

  /** Takes over `dir` (closed, fully loaded with dataset `id`) as the engine's fixture. */
  adopt(engine: StoreEngine, id: DatasetId, dir: string): void {
    this.dirs.set(`${engine}:${id}`, dir);
  }

  /** Whether the fixture exists already. */
  has(engine: StoreEngine, id: DatasetId): boolean {
    return this.dirs.has(`${engine}:${id}`);
  }

  /** The fixture directory of `engine` loaded with dataset `id`, loading it if needed. */
  async dir(engine: StoreEngine, id: DatasetId): Promise<string> {
    const existing = this.dirs.get(`${engine}:${id}`);
    if (existing) return existing;
    const data = this.dataset(id);
    const dir = this.temp.dir(`${engine}-${id}`);
    process.stdout.write(`(loading ${data.count.toLocaleString('en-US')} keys into ${engine}…)\n`);
    await loadFixture(engine, dir, data, this.config.readers);
    this.adopt(engine, id, dir);
    return dir;
  }
}

/**
 * Brings a kvd store to the state a store settles in after a load, as a fixture must be: its
 * sealed segments sorted, each with a hint file. Opens `dir` with a fast compaction check,
 * runs `fill` (a load, or nothing for a store `load` just closed), waits for the check, closes.
 * Otherwise the automatic check does that ~10 s into the first read scenario, on one of the 2
 * cores, while that scenario measures reads.
 */
export async function settleKvdFixture(
  dir: string,
  readers: number,
  fill: (store: Store) => Promise<void> = async () => {},
): Promise<void> {
  const store = await openKvd(dir, 'no', readers, { compaction: { intervalMs: 100 } });
  try {
    await fill(store);
    await waitForSettled(store, 120_000);
  } finally {
    await store.close();
  }
}

/**
 * Loads `data` into a new database of `engine` in `dir` by the engine's fastest bulk path; a
 * kvd fixture is left settled (`settleKvdFixture`).
 */
async function loadFixture(
  engine: StoreEngine,
  dir: string,
  data: Dataset,
  readers: number,
): Promise<void> {
  switch (engine) {
    case 'kvd':
      // The check sorts sealed segments while the load goes on.
      await settleKvdFixture(dir, readers, (store) => loadKvd(store, data));
      return;
    case 'lmdb': {
      const db = openLmdb(dir);
      try {
        loadLmdbSync(db, data);
      } finally {
        await db.close();
      }
      return;
    }
    case 'classic-level': {
      const db = await openLevel(dir);
      try {
        await loadLevel(db, data);
      } finally {
        await db.close();
      }
      return;
    }
    case 'sqlite': {
      const db = openSqlite(sqliteFile(dir), data.spec.valueBytes);
      try {
        loadSqlite(db, data);
      } finally {
        db.close();
      }
      return;
    }
  }
}
