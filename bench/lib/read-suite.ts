// Owns the random point-read workload the hits and misses scenarios share: the same probe
// keys through every engine's read paths, then kvd ÷ peer ratios.

import { openKvd } from '../engines/kvd.js';
import { openLevel } from '../engines/level.js';
import { openLmdb } from '../engines/lmdb.js';
import { openSqlite, selectValue } from '../engines/sqlite.js';
import { type DatasetId, PROBE_LENGTH, prng, probeAt, probeKeys } from './dataset.js';
import { sqliteFile } from './fixtures.js';
import { type Measurement, measureSync, measureWindow } from './measure.js';
import type { Figure, ResultBuilder } from './results.js';
import { expectAllFound, expectNoneFound, figureId, type ScenarioContext } from './scenario.js';

/** Gets kept in flight for pooled/async single-key reads. */
export const GET_IN_FLIGHT = 256;
/** Keys per getMany call. */
export const MANY_KEYS = 100;
/** getMany calls in flight in the "×4" variant. */
const MANY_IN_FLIGHT = 4;
const PROBE_SEED = 0xb10b;

/**
 * The probe kinds: fresh strings of present (`hit`) or absent (`miss`) keys, or present keys
 * drawn from the dataset's own key array (`loaded`: the strings every engine was loaded from).
 */
export type ProbeKind = 'hit' | 'miss' | 'loaded';

/**
 * Runs every engine's read paths over the same random probe of dataset `id` (`kind`),
 * recording figures "<scenario>.<id>.<engine>.<variant>".
 */
export async function runReadSuite(
  context: ScenarioContext,
  out: ResultBuilder,
  scenario: 'hits' | 'hits-loaded' | 'misses',
  id: DatasetId,
  kind: ProbeKind,
): Promise<void> {
  const { config, fixtures } = context;
  const spec = fixtures.spec(id);
  const probe =
    kind === 'loaded'
      ? loadedProbe(fixtures.dataset(id).keys, PROBE_SEED)
      : probeKeys(spec.count, kind, PROBE_SEED);
  const batches = Array.from({ length: Math.floor(PROBE_LENGTH / MANY_KEYS) }, (_, b) =>
    probe.slice(b * MANY_KEYS, (b + 1) * MANY_KEYS),
  );
  const batchAt = (i: number): string[] => batches[i % batches.length]!;
  const timeMs = config.timeMs;
  // 1 per value of the right length, 0 per absent key; a wrong length poisons the sum (NaN)
  // so the found-count check below fails loudly.
  const score = (v: Uint8Array | undefined): number =>
    v === undefined ? 0 : v.length === spec.valueBytes ? 1 : Number.NaN;
  const scoreMany = (values: readonly (Uint8Array | undefined)[]): number => {
    let n = 0;
    for (const v of values) n += score(v);
    return n;
  };
  const check = kind === 'miss' ? expectNoneFound : expectAllFound;
  const record = (
    engine: Figure['engine'],
    variant: string,
    label: string,
    how: string,
    m: Measurement,
  ) =>
    out.measured(
      {
        id: figureId(scenario, id, engine, variant),
        label,
        engine,
        dataset: id,
        unit: 'keys/s',
        better: 'higher',
        how,
      },
      check(`${engine} ${label}`, m),
    );

  const kvdStore = await openKvd(await fixtures.dir('kvd', id), 'everysec', config.readers);
  let kvdSync: Figure;
  let kvdPooled: Figure;
  let kvdMany: Figure;
  let kvdMany4: Figure;
  try {
    kvdSync = record(
      'kvd',
      'getSync',
      'kvd getSync',
      'caller thread',
      measureSync((i) => score(kvdStore.getSync(probeAt(probe, i))), { timeMs }),
    );
    kvdPooled = record(
      'kvd',
      'get256',
      `kvd get`,
      `${GET_IN_FLIGHT} in flight, ${config.readers} readers`,
      await measureWindow(async (i) => score(await kvdStore.get(probeAt(probe, i))), {
        timeMs,
        inFlight: GET_IN_FLIGHT,
      }),
    );
    kvdMany = record(
      'kvd',
      'getMany100',
      `kvd getMany(${MANY_KEYS})`,
      '1 call in flight',
      await measureWindow(async (i) => scoreMany(await kvdStore.getMany(batchAt(i))), {
        timeMs,
        inFlight: 1,
        keysPerOp: MANY_KEYS,
      }),
    );
    kvdMany4 = record(
      'kvd',
      'getMany100x4',
      `kvd getMany(${MANY_KEYS}) ×${MANY_IN_FLIGHT}`,
      `${MANY_IN_FLIGHT} calls in flight`,
      await measureWindow(async (i) => scoreMany(await kvdStore.getMany(batchAt(i))), {
        timeMs,
        inFlight: MANY_IN_FLIGHT,
        keysPerOp: MANY_KEYS,
      }),
    );
  } finally {
    await kvdStore.close();
  }

  // The same store with every get and getMany sent to the reader threads (inlineReadKeys 0),
  // so the pool's own figures stay visible now that small batches are read on the caller.
  const kvdPoolStore = await openKvd(await fixtures.dir('kvd', id), 'everysec', config.readers, {
    inlineReadKeys: 0,
  });
  let kvdPoolGet: Figure;
  let kvdPoolMany: Figure;
  try {
    kvdPoolGet = record(
      'kvd',
      'get256.pool',
      'kvd get, reader pool',
      `${GET_IN_FLIGHT} in flight, ${config.readers} readers, inlineReadKeys 0`,
      await measureWindow(async (i) => score(await kvdPoolStore.get(probeAt(probe, i))), {
        timeMs,
        inFlight: GET_IN_FLIGHT,
      }),
    );
    kvdPoolMany = record(
      'kvd',
      'getMany100.pool',
      `kvd getMany(${MANY_KEYS}), reader pool`,
      '1 call in flight, inlineReadKeys 0',
      await measureWindow(async (i) => scoreMany(await kvdPoolStore.getMany(batchAt(i))), {
        timeMs,
        inFlight: 1,
        keysPerOp: MANY_KEYS,
      }),
    );
  } finally {
    await kvdPoolStore.close();
  }

  // The design's first read path: one pread per record instead of a memory-mapped segment.
  const kvdPreadStore = await openKvd(await fixtures.dir('kvd', id), 'everysec', config.readers, {
    readMode: 'pread',
  });
  let kvdPreadSync: Figure;
  try {
    kvdPreadSync = record(
      'kvd',
      'getSync.pread',
      'kvd getSync, pread',
      "caller thread, readMode 'pread'",
      measureSync((i) => score(kvdPreadStore.getSync(probeAt(probe, i))), { timeMs }),
    );
  } finally {
    await kvdPreadStore.close();
  }

  const lmdb = openLmdb(await fixtures.dir('lmdb', id), true);
  let lmdbGet: Figure;
  let lmdbFast: Figure;
  try {
    lmdbGet = record(
      'lmdb',
      'get',
      'lmdb get',
      'caller thread',
      measureSync((i) => score(lmdb.get(probeAt(probe, i))), { timeMs }),
    );
    lmdbFast = record(
      'lmdb',
      'getBinaryFast',
      'lmdb getBinaryFast',
      'caller thread, reused buffer',
      measureSync((i) => score(lmdb.getBinaryFast(probeAt(probe, i))), { timeMs }),
    );
  } finally {
    await lmdb.close();
  }

  const level = await openLevel(await fixtures.dir('classic-level', id));
  let levelSync: Figure;
  let levelGet: Figure;
  let levelMany: Figure;
  try {
    levelSync = record(
      'classic-level',
      'getSync',
      'classic-level getSync',
      'caller thread',
      measureSync((i) => score(level.getSync(probeAt(probe, i))), { timeMs }),
    );
    levelGet = record(
      'classic-level',
      'get256',
      'classic-level get',
      `${GET_IN_FLIGHT} in flight (libuv pool)`,
      await measureWindow(async (i) => score(await level.get(probeAt(probe, i))), {
        timeMs,
        inFlight: GET_IN_FLIGHT,
      }),
    );
    levelMany = record(
      'classic-level',
      'getMany100',
      `classic-level getMany(${MANY_KEYS})`,
      '1 call in flight',
      await measureWindow(async (i) => scoreMany(await level.getMany(batchAt(i))), {
        timeMs,
        inFlight: 1,
        keysPerOp: MANY_KEYS,
      }),
    );
  } finally {
    await level.close();
  }

  const sqlite = openSqlite(sqliteFile(await fixtures.dir('sqlite', id)), spec.valueBytes, true);
  let sqliteGet: Figure;
  try {
    const select = selectValue(sqlite);
    sqliteGet = record(
      'sqlite',
      'select',
      'sqlite SELECT',
      'prepared, caller thread',
      measureSync((i) => score(select(probeAt(probe, i))), { timeMs }),
    );
  } finally {
    sqlite.close();
  }

  out.ratio(
    figureId(scenario, id, 'ratio', 'getSync/lmdb.get'),
    `${id}: kvd getSync ÷ lmdb get`,
    kvdSync,
    lmdbGet,
  );
  out.ratio(
    figureId(scenario, id, 'ratio', 'getSync/lmdb.getBinaryFast'),
    `${id}: kvd getSync ÷ lmdb getBinaryFast`,
    kvdSync,
    lmdbFast,
  );
  out.ratio(
    figureId(scenario, id, 'ratio', 'getSync.pread/lmdb.get'),
    `${id}: kvd getSync with pread ÷ lmdb get`,
    kvdPreadSync,
    lmdbGet,
  );
  out.ratio(
    figureId(scenario, id, 'ratio', 'getSync/getSync.pread'),
    `${id}: kvd getSync, mmap ÷ pread`,
    kvdSync,
    kvdPreadSync,
  );
  out.ratio(
    figureId(scenario, id, 'ratio', 'getSync/level.getSync'),
    `${id}: kvd getSync ÷ classic-level getSync`,
    kvdSync,
    levelSync,
  );
  out.ratio(
    figureId(scenario, id, 'ratio', 'getSync/sqlite'),
    `${id}: kvd getSync ÷ sqlite SELECT`,
    kvdSync,
    sqliteGet,
  );
  out.ratio(
    figureId(scenario, id, 'ratio', 'get256/lmdb.get'),
    `${id}: kvd get (${GET_IN_FLIGHT} in flight) ÷ lmdb get`,
    kvdPooled,
    lmdbGet,
  );
  out.ratio(
    figureId(scenario, id, 'ratio', 'get256.pool/lmdb.get'),
    `${id}: kvd get through the reader pool (${GET_IN_FLIGHT} in flight) ÷ lmdb get`,
    kvdPoolGet,
    lmdbGet,
  );
  out.ratio(
    figureId(scenario, id, 'ratio', 'get256/level.get256'),
    `${id}: kvd get ÷ classic-level get (both ${GET_IN_FLIGHT} in flight)`,
    kvdPooled,
    levelGet,
  );
  out.ratio(
    figureId(scenario, id, 'ratio', 'getMany100/lmdb.get'),
    `${id}: kvd getMany(${MANY_KEYS}) ÷ lmdb get`,
    kvdMany,
    lmdbGet,
  );
  out.ratio(
    figureId(scenario, id, 'ratio', 'getMany100.pool/lmdb.get'),
    `${id}: kvd getMany(${MANY_KEYS}) through the reader pool ÷ lmdb get`,
    kvdPoolMany,
    lmdbGet,
  );
  out.ratio(
    figureId(scenario, id, 'ratio', 'getMany100x4/lmdb.get'),
    `${id}: kvd getMany(${MANY_KEYS}) ×${MANY_IN_FLIGHT} ÷ lmdb get`,
    kvdMany4,
    lmdbGet,
  );
  out.ratio(
    figureId(scenario, id, 'ratio', 'getMany100/level.getMany100'),
    `${id}: kvd getMany ÷ classic-level getMany (${MANY_KEYS} keys)`,
    kvdMany,
    levelMany,
  );
}

/** PROBE_LENGTH strings of `keys` (the very objects, not copies), drawn uniformly. */
function loadedProbe(keys: readonly string[], seed: number): string[] {
  const next = prng(seed);
  return Array.from({ length: PROBE_LENGTH }, () => keys[next() % keys.length]!);
}
