// Owns composing `Store.stats()`: the index's own figures (read on the caller's thread), the
// writer's segment accounting and counters, the options, what recovery did at open and the
// read queue's counts.

import type { IndexTable } from '../shared/index-table.js';
import type { WriterOpened, WriterStats } from '../shared/messages.js';
import type { VersionLog } from '../shared/version-log.js';
import type { ResolvedOptions } from './options.js';
import type { ReadCounts } from './read-queue.js';
import type { StoreStats } from './store-types.js';

/** The statistics `Store.stats()` answers. Caller's thread. */
export function composeStats(
  index: IndexTable,
  w: WriterStats,
  options: ResolvedOptions,
  opened: WriterOpened,
  reads: ReadCounts,
  versions: VersionLog,
): StoreStats {
  const keys = index.count;
  return {
    keys,
    indexBytes: index.byteLength,
    indexBytesPerKey: keys > 0 ? index.byteLength / keys : 0,
    indexCapacity: index.capacity,
    segments: w.segments,
    diskBytes: w.segments.reduce((n, s) => n + s.bytes, 0),
    liveBytes: w.segments.reduce((n, s) => n + s.liveBytes, 0),
    deadBytes: w.segments.reduce((n, s) => n + s.deadBytes, 0),
    lastSeq: w.lastSeq,
    durability: w.durability,
    readers: options.readers,
    readMode: options.readMode,
    recovery: {
      records: opened.recoveredRecords,
      restoredSegments: opened.restoredSegments,
      hintedSegments: opened.hintedSegments,
      scannedSegments: opened.scannedSegments,
      truncatedBytes: opened.truncatedBytes,
      ...(opened.tornTail ? { tornTail: opened.tornTail } : {}),
      ...(opened.repair ? { repair: opened.repair } : {}),
      ms: opened.recoveryMs,
    },
    damage: {
      reads: index.damagedReads,
      skippedByMerges: w.damageSkippedByMerges,
    },
    reads: { inline: reads.inline, pooled: reads.pooled },
    writer: { writes: w.writes, flushes: w.flushes, syncs: w.syncs, expiredKeys: w.expiredKeys },
    withExpiry: w.withExpiry,
    lastSnapshotAt: w.lastSnapshotAt,
    snapshots: {
      held: versions.held,
      versions: versions.entries,
      versionBytes: versions.buffer.byteLength,
      pinnedBytes: versions.pinnedBytes,
    },
  };
}
