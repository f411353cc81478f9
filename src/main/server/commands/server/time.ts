// TIME: the server's clock as two bulk strings, Unix seconds and the microseconds within the
// second (from performance.timeOrigin + performance.now(), which carry microseconds).

import { array, bulk, type RespValue } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

function time(): RespValue {
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const seconds = Math.floor(micros / 1_000_000);
  return array([bulk(String(seconds)), bulk(String(micros - seconds * 1_000_000))]);
}

/** TIME. */
export const timeCommand: CommandSpec = {
  name: 'time',
  arity: 1,
  flags: ['loading', 'stale', 'fast'],
  kind: 'none',
  keys: NO_KEYS,
  handler: time,
  summary: 'Returns the server time (Unix seconds and microseconds).',
};
