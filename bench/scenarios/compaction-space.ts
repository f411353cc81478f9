// Scenario "compaction-space": disk use of dataset A's keys (--keys) written once, then
// overwritten OVERWRITES times with new 100 B values, then every DELETE_EVERY-th key deleted:
// segment bytes ÷ live bytes from stats(), before and after compact(); every file of the
// directory but LOCK after it, ÷ live bytes and ÷ the user's key + value bytes; the merge's
// time; the false-positive rate of the data segments' bloom filters, probed with absent keys.
// Checks a sample of keys for their last value (or absence) after the merge.

import {
  type CompactionResult,
  deletedBy,
  deleteEveryKvd,
  loadKvd,
  openKvd,
  overwriteKvd,
  passValue,
  segmentBytesFor,
} from '../engines/kvd.js';
import { missKey } from '../lib/dataset.js';
import { formatNumber } from '../lib/format.js';
import { directoryBytes } from '../lib/kvd-files.js';
import { measureOnce } from '../lib/measure.js';
import { figureId, type Scenario } from '../lib/scenario.js';
import { measureSegmentFilters } from '../lib/segment-filters.js';

/** Overwrites of every key after the load: each key has OVERWRITES + 1 versions on disk. */
const OVERWRITES = 5;
/** Then every DELETE_EVERY-th key (load order) is deleted. */
const DELETE_EVERY = 10;
/** Keys checked for their last value after the merge. */
const SAMPLE = 1000;
/** Absent keys probed against every data segment's bloom filter. */
const FILTER_PROBES = 100_000;
const MIB = 2 ** 20;

export const scenario: Scenario = {
  id: 'compaction-space',
  title:
    `disk use after overwriting every key ${OVERWRITES} times and deleting every ` +
    `${DELETE_EVERY}th, before and after compact()`,
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
        await deleteEveryKvd(store, data, DELETE_EVERY);
      });
      const before = await store.stats();
      const result: CompactionResult = await store.compact();
      const after = await store.stats();
      const files = directoryBytes(dir);

      // The user's bytes: key + value of every key still live (what a caller stored).
      let liveKeys = 0;
      let userBytes = 0;
      for (let n = 0; n < data.count; n++) {
        if (deletedBy(n, DELETE_EVERY)) continue;
        liveKeys++;
        userBytes += Buffer.byteLength(data.keys[n]!) + passValue(data, n, OVERWRITES).length;
      }
      if (after.keys !== liveKeys)
        throw new Error(`kvd holds ${after.keys} keys after compact(), expected ${liveKeys}`);
      for (let s = 0; s < SAMPLE; s++) {
        const n = Math.floor((s * data.count) / SAMPLE) + (s % DELETE_EVERY);
        if (n >= data.count) continue;
        const value = store.getSync(data.keys[n]!);
        if (deletedBy(n, DELETE_EVERY)) {
          if (value !== undefined) throw new Error(`${data.keys[n]} came back in compact()`);
        } else if (!value?.equals(passValue(data, n, OVERWRITES))) {
          throw new Error(`${data.keys[n]} lost its last value in compact()`);
        }
      }

      // The data segments' bloom filters, probed with absent keys (odd ids, between present ones).
      const absent = Array.from({ length: FILTER_PROBES }, (_, i) =>
        Buffer.from(missKey(Math.floor((i * data.count) / FILTER_PROBES))),
      );
      const filters = measureSegmentFilters(dir, absent);

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
          how: `stats().liveBytes: ${liveKeys.toLocaleString('en-US')} keys' last records`,
        },
        after.liveBytes / MIB,
      );
      out.value(
        {
          ...base,
          id: id('userMiB'),
          label: "user's key + value bytes",
          unit: 'MiB',
          how: `${liveKeys.toLocaleString('en-US')} live keys × (16 B key + 100 B value)`,
        },
        userBytes / MIB,
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
      const filesHow =
        `${formatNumber(files.total / MIB)} MiB: ` +
        `segments ${formatNumber(files.segments / MIB)} MiB, ` +
        `hint files ${formatNumber(files.hints / MIB)} MiB, ` +
        `key runs (with bloom filters) ${formatNumber(files.keyRuns / MIB)} MiB, ` +
        `other ${formatNumber(files.other / 1024)} KiB`;
      out.value(
        {
          ...base,
          id: id('filesPerLive.after'),
          label: 'all files ÷ live after compact()',
          unit: 'disk/live',
          how: `${filesHow}; ÷ stats().liveBytes`,
        },
        files.total / after.liveBytes,
      );
      out.value(
        {
          ...base,
          id: id('filesPerUser.after'),
          label: "all files ÷ user's key + value bytes after compact()",
          unit: 'disk/live',
          how: `${filesHow}; ÷ ${formatNumber(userBytes / MIB)} MiB of keys and values`,
        },
        files.total / userBytes,
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
      out.value(
        {
          ...base,
          id: id('filterFalsePositives'),
          label: 'bloom filter false positives, absent keys',
          unit: '%',
          how:
            `${FILTER_PROBES.toLocaleString('en-US')} absent keys (odd ids) probed against the ` +
            `filter of each of ${filters.files} data segment${filters.files === 1 ? '' : 's'}: ` +
            `${filters.positives.toLocaleString('en-US')} ` +
            `"maybe" of ${filters.probes.toLocaleString('en-US')}; ` +
            `${formatNumber((8 * filters.filterBytes) / filters.keys)} bits and ` +
            `${filters.hashProbes} probes a key; theory ${(100 * filters.theoreticalRate).toFixed(3)}%`,
        },
        100 * filters.measuredRate,
      );
      out.ratio(
        figureId('compaction-space', 'A', 'ratio', 'after/before'),
        'segment bytes after ÷ before compact() (lower is better)',
        diskAfter,
        diskBefore,
      );
      out.note(
        `${data.count.toLocaleString('en-US')} keys written once, then overwritten ${OVERWRITES} ` +
          `times with other 100 B values (${OVERWRITES + 1} versions a key), then every ` +
          `${DELETE_EVERY}th key in load order deleted (${(writeMs / 1000).toFixed(1)} s of ` +
          "writes, durability 'no'); automatic compaction off; segments of " +
          `${formatNumber(segmentBytes / MIB)} MiB; compact() seals the active segment and ` +
          `merges every sealed one; "all files" is every file in the directory but LOCK; ` +
          `${SAMPLE} keys ` +
          'checked for their last value (or absence) after it',
      );
    } finally {
      await store.close();
      temp.remove(dir);
    }
  },
};
