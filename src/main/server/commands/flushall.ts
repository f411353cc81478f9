// FLUSHALL: not supported yet — the engine cannot drop every key atomically — so it answers an
// error rather than deleting keys one by one.

import { error } from '../resp-value.js';
import { type CommandSpec, NO_KEYS } from './command-spec.js';

const NOT_SUPPORTED = error('ERR FLUSHALL is not supported yet');

/** FLUSHALL. */
export const flushallCommand: CommandSpec = {
  name: 'flushall',
  arity: -1,
  flags: ['write'],
  kind: 'none',
  keys: NO_KEYS,
  handler: () => NOT_SUPPORTED,
};
