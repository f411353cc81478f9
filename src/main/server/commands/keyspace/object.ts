// OBJECT ENCODING | REFCOUNT | IDLETIME | FREQ key, OBJECT HELP: what Redis would say about a
// key's value, answered truthfully for kvd. ENCODING follows Redis's rule for strings (`int` for
// a 64-bit integer of up to 20 bytes, `embstr` up to 44 bytes, else `raw`; kvd does not track
// APPEND's `raw`); REFCOUNT is 1 (kvd shares no values); IDLETIME is 0 and FREQ is refused as
// Redis refuses it without an LFU policy, because kvd keeps no access times or counters.

import { parseInteger } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { array, bulk, error, integer, NULL, type RespValue, simple } from '../../resp-value.js';
import { keyword, subcommandRefusal } from '../arguments.js';
import type { CommandSpec } from '../command-spec.js';

/** Longest string Redis stores as `embstr` (one allocation with its header). */
const EMBSTR_MAX_BYTES = 44;
/** Longest string Redis tries to store as `int`. */
const INT_MAX_BYTES = 20;

const NO_LFU = error(
  'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note ' +
    'that when switching between policies at runtime LRU and LFU data will take some time to adjust.',
);

const HELP = [
  'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ENCODING <key>',
  '    Return the encoding Redis would use for the value of <key>: int, embstr or raw.',
  'FREQ <key>',
  '    Not tracked by kvd: answers the error Redis gives without an LFU maxmemory policy.',
  'IDLETIME <key>',
  '    Not tracked by kvd (no access times are kept): always 0.',
  'REFCOUNT <key>',
  '    Return the number of references of the value of <key>: always 1 in kvd.',
  'HELP',
  '    Print this help.',
];

/** Redis's encoding name for a string value. */
function stringEncoding(value: Buffer): string {
  if (value.length <= INT_MAX_BYTES && parseInteger(value) !== undefined) return 'int';
  return value.length <= EMBSTR_MAX_BYTES ? 'embstr' : 'raw';
}

/** Each subcommand's arity (OBJECT and the subcommand counted). */
const SUBCOMMANDS: ReadonlyMap<string, number> = new Map([
  ['encoding', 3],
  ['refcount', 3],
  ['idletime', 3],
  ['freq', 3],
  ['help', 2],
]);

function object(ctx: CommandContext, args: readonly Buffer[]): RespValue {
  const refused = subcommandRefusal('object', SUBCOMMANDS, args);
  if (refused) return refused;
  const sub = keyword(args[1]!);
  if (sub === 'help') return array(HELP.map(simple));
  const value = ctx.store.getSync(args[2]!);
  if (value === undefined) return NULL;
  switch (sub) {
    case 'encoding':
      return bulk(stringEncoding(value));
    case 'refcount':
      return integer(1);
    case 'idletime':
      return integer(0);
    default:
      return NO_LFU;
  }
}

/** OBJECT. */
export const objectCommand: CommandSpec = {
  name: 'object',
  arity: -2,
  flags: ['readonly'],
  kind: 'read',
  keys: [2, 2, 1],
  handler: object,
  subcommands: SUBCOMMANDS,
  summary: 'Inspects the internals of a key: ENCODING, REFCOUNT, IDLETIME, FREQ.',
};
