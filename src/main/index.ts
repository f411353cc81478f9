// The package root: kvd's public API. Import from 'kvd'.

export { ERROR_CODES, KvError, type KvErrorCode } from '../shared/errors.js';
export type { Durability, SegmentStats } from '../shared/messages.js';
export { type RemoteMethods, type RemoteStore, spawnStore } from './ipc-client.js';
export { DEFAULTS, LIMITS, type StoreOptions } from './options.js';
export {
  type BatchOp,
  type Bytes,
  type SetOptions,
  type SetWithOptions,
  type SetWithResult,
  Store,
  type StoreStats,
} from './store.js';
