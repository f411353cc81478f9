// Scenario "compaction-space": disk use of dataset A's keys (--keys) written once and then
// overwritten OVERWRITES times with new 100 B values, as segment bytes ÷ live bytes from
// stats(), before and after compact(); plus every file of the directory after, and the merge's
// time. Checks a sample of keys for their last value after the merge.

import {
  type CompactionResult,
  loadKvd,
  openKvd,
  overwriteKvd,
  passValue,
  segmentBytesFor,
} from '../engines/kvd.js';
import { formatNumber } from '../lib/format.js';
import { directoryBytes } from '../lib/kvd-files.js';
import { measureOnce } from '../lib/measure.js';
import { figureId, type Scenario } from '../lib/scenario.js';

/** Overwrites of every key after the load: each key has OVERWRITES + 1 versions on disk. */
const OVERWRITES = 5;
/** Keys checked for their last value after the merge. */
const SAMPLE = 1000;
const MIB = 2 ** 20;

export const scenario: Scenario = {
  id: 'compaction-space',
  title: `disk use after overwriting every key ${OVERWRITES} times, before and after compact()`,
  async run({ config, temp, fixtures }, out) {
    const data = fixtures.dataset('A');
    const dir = temp.dir('compaction-space');
    const segmentBytes = segmentBytesFor(config.keys);
    const store = await openKvd(dir, 'no', config.readers, {
      segmentBytes,
      compaction: { auto: false, bytesPerSecond: 0 },
    });
    try {
      const writeMs = await measureOnce(async () => {
        await loadKvd(store, data);
        for (let pass = 1; pass <= OVERWRITES; pass++) await overwriteKvd(store, data, pass);
      });
      const before = await store.stats();
      const result: CompactionResult = await store.compact();
      const after = await store.stats();
      const files = directoryBytes(dir);

      if (after.keys !== data.count)
        throw new Error(`kvd holds ${after.keys} keys after compact(), expected ${data.count}`);
      for (let s = 0; s < SAMPLE; s++) {
        const n = Math.floor((s * data.count) / SAMPLE);
        const value = store.getSync(data.keys[n]!);
        if (!value?.equals(passValue(data, n, OVERWRITES)))
          throw new Error(`${data.keys[n]} lost its last value in compact()`);
      }

      const base = { engine: 'kvd', dataset: 'A', better: 'lower' } as const;
      const id = (variant: string) => figureId('compaction-space', 'A', 'kvd', variant);
      const describe = (s: typeof before) =>
        `${s.segments.length} segments, ${formatNumber(s.deadBytes / MIB)} MiB dead`;
      const diskBefore = out.value(
        {
          ...base,
          id: id('diskMiB.before'),
          label: 'segment bytes before compact()',
          unit: 'MiB',
          how: describe(before),
        },
        before.diskBytes / MIB,
      );
      const diskAfter = out.value(
        {
          ...base,
          id: id('diskMiB.after'),
          label: 'segment bytes after compact()',
          unit: 'MiB',
          how: describe(after),
        },
        after.diskBytes / MIB,
      );
      out.value(
        {
          ...base,
          id: id('liveMiB'),
          label: 'live bytes',
          unit: 'MiB',
          how: `${data.count.toLocaleString('en-US')} keys, last versions`,
        },
        after.liveBytes / MIB,
      );
      out.value(
        {
          ...base,
          id: id('diskPerLive.before'),
          label: 'disk ÷ live before compact()',
          unit: 'disk/live',
          how: 'stats().diskBytes ÷ liveBytes',
        },
        before.diskBytes / before.liveBytes,
      );
      out.value(
        {
          ...base,
          id: id('diskPerLive.after'),
          label: 'disk ÷ live after compact()',
          unit: 'disk/live',
          how: 'stats().diskBytes ÷ liveBytes',
        },
        after.diskBytes / after.liveBytes,
      );
      out.value(
        {
          ...base,
          id: id('filesPerLive.after'),
          label: 'all files ÷ live after compact()',
          unit: 'disk/live',
          how:
            `${formatNumber(files.total / MIB)} MiB: segments ${formatNumber(files.segments / MIB)} MiB, ` +
            `hint files ${formatNumber(files.hints / MIB)} MiB, other ${formatNumber(files.other / 1024)} KiB`,
        },
        files.total / after.liveBytes,
      );
      out.value(
        {
          ...base,
          id: id('compact'),
          label: 'compact() time',
          unit: 'ms',
          how:
            `${result.merges} merges of ${result.segmentsMerged} segments, ` +
            `${formatNumber(result.bytesBefore / MIB)} → ${formatNumber(result.bytesAfter / MIB)} MiB, ` +
            `${result.keysMoved.toLocaleString('en-US')} keys moved, no rate limit`,
        },
        result.seconds * 1000,
      );
      out.ratio(
        figureId('compaction-space', 'A', 'ratio', 'after/before'),
        'segment bytes after ÷ before compact() (lower is better)',
        diskAfter,
        diskBefore,
      );
      out.note(
        `${data.count.toLocaleString('en-US')} keys written once, then overwritten ${OVERWRITES} ` +
          `times with other 100 B values (${OVERWRITES + 1} versions a key, ` +
          `${(writeMs / 1000).toFixed(1)} s of writes, durability 'no'); automatic compaction ` +
          `off; segments of ${formatNumber(segmentBytes / MIB)} MiB; compact() seals the active segment and merges every sealed one; ${SAMPLE} keys ` +
          'checked for their last value after it',
      );
    } finally {
      await store.close();
      temp.remove(dir);
    }
  },
};
