// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]: iterates over the keys. Cursor 0 takes
// a point-in-time listing (`Store.keys()`, after every earlier write), so every key present for
// the whole scan is returned exactly once; keys written or deleted meanwhile may or may not be.
// A scan's listing is kept between pages (see scan-cursors.ts); an unknown cursor is an error.

import { parseInteger } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { globMatch } from '../../glob.js';
import { array, bulk, error, type RespValue } from '../../resp-value.js';
import { decodeCursor, encodeCursor } from '../../scan-cursors.js';
import { keyword, NOT_AN_INTEGER, SYNTAX_ERROR } from '../arguments.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

const INVALID_CURSOR = error('ERR invalid cursor');
const UNKNOWN_CURSOR = error('ERR unknown or expired cursor; start the scan again from 0');

interface ScanRequest {
  cursor: number;
  match: Buffer | undefined;
  count: number;
  /** TYPE filter: kvd holds only strings, so any other type matches nothing. */
  onlyNone: boolean;
}

function parse(args: readonly Buffer[]): ScanRequest | RespValue {
  const text = args[1]!.toString('latin1');
  if (!/^[0-9]{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) return INVALID_CURSOR;
  const request: ScanRequest = {
    cursor: Number(text),
    match: undefined,
    count: 10,
    onlyNone: false,
  };
  for (let i = 2; i < args.length; i += 2) {
    const option = keyword(args[i]!);
    const value = args[i + 1];
    if (value === undefined) return SYNTAX_ERROR;
    if (option === 'match') {
      request.match = value;
    } else if (option === 'count') {
      const count = parseInteger(value);
      if (count === undefined) return NOT_AN_INTEGER;
      if (count < 1n) return SYNTAX_ERROR;
      request.count = count > 1_000_000n ? 1_000_000 : Number(count);
    } else if (option === 'type') {
      request.onlyNone = keyword(value) !== 'string';
    } else {
      return SYNTAX_ERROR;
    }
  }
  return request;
}

async function scan(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const request = parse(args);
  if ('kind' in request) return request;
  let id: number;
  let position: number;
  let keys: readonly Buffer[] | undefined;
  if (request.cursor === 0) {
    keys = await ctx.store.keys();
    id = ctx.server.scans.start(keys);
    position = 0;
  } else {
    ({ id, position } = decodeCursor(request.cursor));
    keys = ctx.server.scans.listing(id);
    if (keys === undefined) return UNKNOWN_CURSOR;
  }
  const end = Math.min(keys.length, position + request.count);
  const page: RespValue[] = [];
  if (!request.onlyNone) {
    for (let i = position; i < end; i++) {
      const key = keys[i]!;
      if (request.match === undefined || globMatch(request.match, key)) page.push(bulk(key));
    }
  }
  let next = 0;
  if (end < keys.length) next = encodeCursor(id, end);
  else ctx.server.scans.end(id);
  return array([bulk(String(next)), array(page)]);
}

/** SCAN. */
export const scanCommand: CommandSpec = {
  name: 'scan',
  arity: -2,
  flags: ['readonly'],
  kind: 'read',
  keys: NO_KEYS,
  handler: scan,
  summary: 'Iterates over the key names in the database.',
};
