// The package root: kvd's public API. Import from 'kvd'. The products built on it (the daemon in
// server/, spawnStore's child in ipc/, the CLI in cli/) import only from this module.

export {
  deserializeError,
  ERROR_CODES,
  KvError,
  type KvErrorCode,
  type KvErrorOptions,
  type SerializedError,
  serializeError,
} from '../shared/errors.js';
export type { LatencyDistribution } from '../shared/latency-histogram.js';
export { createLogger, type Logger } from '../shared/logger.js';
export type {
  RepairedRange,
  RepairReport,
  SegmentStats,
  TornTailReport,
} from '../shared/messages.js';
export { parseInteger } from '../shared/write-ops.js';
export type { BackupOptions, BackupResult } from './backup.js';
export type { ChangeListener, ChangeWatch, StoreChange } from './change-feed.js';
export type { CompactionCounts, CompactionProgress, CompactionResult } from './compactor.js';
export { type RemoteMethods, type RemoteStore, spawnStore } from './ipc/ipc-client.js';
export { connectSharedStore, type StoreChannel, shareStore } from './ipc/ipc-share.js';
export {
  type CompactionOptions,
  type Compression,
  DEFAULTS,
  type Durability,
  LIMITS,
  type ReadMode,
  type StoreOptions,
} from './options.js';
export type { ReadTarget } from './read-queue.js';
export { Snapshot } from './snapshot.js';
export { Store } from './store.js';
export type { StoreMetrics } from './store-metrics.js';
export type {
  BatchOp,
  BatchOptions,
  Bytes,
  Entry,
  ExpireCondition,
  RangeEntry,
  RangeKey,
  RangeKeyValue,
  RangeOptions,
  SetOptions,
  SetWithOptions,
  SetWithResult,
  StoreStats,
} from './store-types.js';
export type { WriteTarget } from './write-queue.js';
