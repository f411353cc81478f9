// The `kvd/keyv` subpath: KeyvKvd, a Keyv 5 storage adapter on a kvd Store. Import from
// 'kvd/keyv'. It imports only kvd's public API (src/main/index.ts), as an outside user would.

export {
  createKeyv,
  enableIterator,
  KeyvKvd,
  type KeyvKvdEntry,
  type KeyvKvdOptions,
  type KeyvKvdSettings,
} from './keyv-kvd.js';
