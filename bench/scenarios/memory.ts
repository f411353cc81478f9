// Scenario "memory": index memory per key. kvd reports its shared index size in stats();
// the reference is the obvious JS keydir, a Map<string, {seg, off, len}>, measured as the
// heap growth (after full GCs) of building one for the same number of keys.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openKvd, type StoreStats } from '../engines/kvd.js';
import { hitKey } from '../lib/dataset.js';
import { figureId, type Scenario } from '../lib/scenario.js';

/** One entry of the naive keydir. */
interface Location {
  seg: number;
  off: number;
  len: number;
}

export const scenario: Scenario = {
  id: 'memory',
  title: 'index memory per key (dataset A)',
  async run({ config, fixtures }, out) {
    const spec = fixtures.spec('A');
    const base = { dataset: 'A', unit: 'B/key', better: 'lower' } as const;

    const store = await openKvd(await fixtures.dir('kvd', 'A'), 'everysec', config.readers);
    let stats: StoreStats;
    try {
      stats = await store.stats();
    } finally {
      await store.close();
    }
    if (stats.keys !== spec.count)
      throw new Error(`kvd reports ${stats.keys} keys, expected ${spec.count}`);
    const kvd = out.value(
      {
        ...base,
        id: figureId('memory', 'A', 'kvd', 'indexBytesPerKey'),
        engine: 'kvd',
        label: 'kvd stats().indexBytesPerKey',
        how: `${stats.indexBytes.toLocaleString('en-US')} B, load ${((100 * stats.keys) / stats.indexCapacity).toFixed(0)}%`,
      },
      stats.indexBytesPerKey,
    );
    out.value(
      {
        ...base,
        id: figureId('memory', 'A', 'kvd', 'indexBytesPerKeyAt75'),
        engine: 'kvd',
        label: 'kvd index bytes per key at 75% load',
        how: 'indexBytes ÷ capacity ÷ 0.75',
      },
      stats.indexBytes / stats.indexCapacity / 0.75,
    );

    const gc = exposeGc();
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    const map = new Map<string, Location>();
    for (let i = 0; i < spec.count; i++) map.set(hitKey(i), { seg: 1, off: i * 140, len: 140 });
    gc();
    gc();
    const after = process.memoryUsage().heapUsed;
    if (map.size !== spec.count) throw new Error('map lost keys');
    const jsMap = out.value(
      {
        ...base,
        id: figureId('memory', 'A', 'js-map', 'heapPerKey'),
        engine: 'js-map',
        label: 'Map<string, {seg,off,len}>',
        how: 'heapUsed delta incl. 16 B key strings',
      },
      (after - before) / spec.count,
    );
    out.ratio(
      figureId('memory', 'A', 'ratio', 'kvd/map'),
      'kvd index ÷ JS Map (lower is better)',
      kvd,
      jsMap,
    );
    out.note('the Map holds its own key strings, as any keydir must; kvd keeps only a fingerprint');
  },
};

/** The global gc(), enabling --expose-gc at run time when node was started without it. */
function exposeGc(): () => void {
  if (typeof globalThis.gc === 'function') return globalThis.gc;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}
