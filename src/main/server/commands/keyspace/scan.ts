// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]: iterates over the keys in byte order.
// Each call walks up to COUNT keys (key-walk.ts: keys only) after where the cursor's previous
// page stopped, within the MATCH pattern's literal prefix, and answers those the pattern
// matches; so a full iteration returns every key present for the whole scan exactly once (keys
// written or deleted meanwhile may or may not be), holding two keys per scan between calls
// (scan-cursors.ts). An unknown or expired cursor is an error, as a malformed one is.

import { Buffer } from 'node:buffer';
import { parseInteger } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { globLiteralPrefix, globMatch } from '../../glob.js';
import { walkKeys } from '../../key-walk.js';
import { array, bulk, error, type RespValue } from '../../resp-value.js';
import { parseCursor } from '../../scan-cursors.js';
import { keyword, NOT_AN_INTEGER, SYNTAX_ERROR } from '../arguments.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

const INVALID_CURSOR = error('ERR invalid cursor');
const UNKNOWN_CURSOR = error('ERR unknown or expired cursor; start the scan again from 0');

interface ScanRequest {
  cursor: bigint;
  match: Buffer | undefined;
  count: number;
  /** TYPE filter: kvd holds only strings, so any other type matches nothing. */
  onlyNone: boolean;
}

function parse(args: readonly Buffer[]): ScanRequest | RespValue {
  const cursor = parseCursor(args[1]!.toString('latin1'));
  if (cursor === undefined) return INVALID_CURSOR;
  const request: ScanRequest = {
    cursor,
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
  const scans = ctx.server.scans;
  const from = scans.resume(request.cursor);
  if (from === undefined) return UNKNOWN_CURSOR;
  if (request.onlyNone) {
    scans.end(from); // no key has another type: the scan is complete
    return array([bulk('0'), array([])]);
  }
  const { match, count } = request;
  const prefix = match === undefined ? Buffer.alloc(0) : globLiteralPrefix(match);
  // One key more than COUNT: whether there is a next page (it is walked again there).
  const walked: Buffer[] = [];
  for await (const key of walkKeys(ctx.store, { prefix, after: from.after, limit: count + 1 })) {
    walked.push(key);
  }
  let next = 0;
  if (walked.length > count) {
    walked.length = count;
    next = scans.advance(from, walked[count - 1]!);
  } else {
    scans.end(from);
  }
  const page: RespValue[] = [];
  for (const key of walked) if (match === undefined || globMatch(match, key)) page.push(bulk(key));
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
