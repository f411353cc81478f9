// The package root: kvd's public API. Import from 'kvd'.

export { ERROR_CODES, KvError, type KvErrorCode } from '../shared/errors.js';
export type { Logger } from '../shared/logger.js';
export type {
  Durability,
  RepairedRange,
  RepairReport,
  SegmentStats,
  TornTailReport,
} from '../shared/messages.js';
export type { ReadMode } from '../shared/segment-fds.js';
export type { CompactionProgress, CompactionResult } from './compactor.js';
export { type RemoteMethods, type RemoteStore, spawnStore } from './ipc-client.js';
export { type CompactionOptions, DEFAULTS, LIMITS, type StoreOptions } from './options.js';
export { Store } from './store.js';
export type {
  BatchOp,
  Bytes,
  ExpireCondition,
  SetOptions,
  SetWithOptions,
  SetWithResult,
  StoreStats,
} from './store-types.js';
