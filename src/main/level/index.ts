// The `kvd/level` subpath: kvd as an abstract-level 3 database. Import from 'kvd/level'. It
// imports only kvd's public API (src/main/index.ts), as an outside user would.

export { KvdLevel, type KvdLevelOptions } from './kvd-level.js';
export { KvdLevelError } from './level-errors.js';
export type { LevelData } from './level-format.js';
export {
  KvdLevelIterator,
  KvdLevelKeyIterator,
  KvdLevelValueIterator,
} from './level-iterators.js';
export { KvdLevelSnapshot } from './level-snapshot.js';
