// Owns how COMMAND describes a command of the table, derived from its spec and family so every
// command (whoever added it) is described: COMMAND INFO's ten fields (with ACL categories from
// the flags and group, key specs from the key positions) and COMMAND DOCS's map.

import { array, bulk, integer, map, type RespValue, set, simple } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';

/**
 * The kvd version that added a command, for COMMAND DOCS's `since`: every command so far came
 * with kvd 0.1.0 (Redis reports the Redis version here; kvd reports its own).
 */
const SINCE = '0.1.0';

/** The ACL category a group's commands carry, as Redis names them. */
const GROUP_CATEGORY: Readonly<Record<string, string>> = {
  generic: '@keyspace',
  string: '@string',
  bitmap: '@bitmap',
  connection: '@connection',
  transactions: '@transaction',
  scripting: '@scripting',
};

/** ACL categories as Redis derives them: read/write, the group's, fast/slow, admin/dangerous. */
function categories(spec: CommandSpec, group: string): RespValue[] {
  const found: string[] = [];
  if (spec.flags.includes('readonly')) found.push('@read');
  if (spec.flags.includes('write')) found.push('@write');
  const own = GROUP_CATEGORY[group];
  if (own !== undefined) found.push(own);
  found.push(spec.flags.includes('fast') ? '@fast' : '@slow');
  if (spec.flags.includes('admin')) found.push('@admin', '@dangerous');
  return found.map(simple);
}

/**
 * The key specs of a command with key positions: one spec, starting at the first key's index and
 * running to the last key (relative to the first; -1: the last argument) in steps. Its flags
 * say how the command uses the keys: read-only commands `RO access`, writes `RW update`.
 */
function keySpecs(spec: CommandSpec): RespValue[] {
  const [first, last, step] = spec.keys;
  if (first <= 0) return [];
  const flags = spec.flags.includes('write') ? ['RW', 'update'] : ['RO', 'access'];
  return [
    map([
      [bulk('flags'), set(flags.map(simple))],
      [
        bulk('begin_search'),
        map([
          [bulk('type'), bulk('index')],
          [bulk('spec'), map([[bulk('index'), integer(first)]])],
        ]),
      ],
      [
        bulk('find_keys'),
        map([
          [bulk('type'), bulk('range')],
          [
            bulk('spec'),
            map([
              [bulk('lastkey'), integer(last < 0 ? last : last - first)],
              [bulk('keystep'), integer(step)],
              [bulk('limit'), integer(0)],
            ]),
          ],
        ]),
      ],
    ]),
  ];
}

/**
 * One command as Redis 7 COMMAND INFO describes it: name, arity, flags, first key, last key,
 * step, ACL categories, tips (none), key specs, subcommands (none: containers such as CONFIG
 * are described as a whole). The lists are sets, as Redis sends them (`~` in RESP3).
 */
export function commandInfo(spec: CommandSpec, group: string): RespValue {
  const [first, last, step] = spec.keys;
  return array([
    bulk(spec.name),
    integer(spec.arity),
    set(spec.flags.map(simple)),
    integer(first),
    integer(last),
    integer(step),
    set(categories(spec, group)),
    set([]),
    set(keySpecs(spec)),
    set([]),
  ]);
}

/**
 * One command's COMMAND DOCS entry: the three fields Redis always sends (summary, since,
 * group); kvd documents no arguments or history.
 */
export function commandDocs(spec: CommandSpec, group: string): RespValue {
  return map([
    [bulk('summary'), bulk(spec.summary ?? `The ${spec.name.toUpperCase()} command.`)],
    [bulk('since'), bulk(SINCE)],
    [bulk('group'), bulk(group)],
  ]);
}
