// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: the longest common subsequence of two
// values (a missing key is empty), its length, or its matching runs, as Redis 7 answers them. The
// table is refused, as Redis refuses it, once it would pass proto-max-bulk-len bytes.

import { Buffer } from 'node:buffer';
import { parseInteger } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { array, bulk, error, integer, map, type RespValue } from '../../resp-value.js';
import { keyword, NOT_AN_INTEGER, SYNTAX_ERROR } from '../arguments.js';
import type { CommandSpec } from '../command-spec.js';
import { type LcsMatch, lcsTableBytes, longestCommonSubsequence } from './lcs-table.js';

const LEN_AND_IDX = error('ERR If you want both the length and indexes, please just use IDX.');
const TABLE_TOO_LARGE = error(
  'ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len',
);

/** What LCS's options asked for. */
interface LcsRequest {
  len: boolean;
  idx: boolean;
  withMatchLen: boolean;
  minMatchLen: bigint;
}

function parseOptions(args: readonly Buffer[]): LcsRequest | RespValue {
  const request: LcsRequest = { len: false, idx: false, withMatchLen: false, minMatchLen: 0n };
  for (let i = 3; i < args.length; i++) {
    const option = keyword(args[i]!);
    if (option === 'len') request.len = true;
    else if (option === 'idx') request.idx = true;
    else if (option === 'withmatchlen') request.withMatchLen = true;
    else if (option === 'minmatchlen' && i + 1 < args.length) {
      const n = parseInteger(args[++i]!);
      if (n === undefined) return NOT_AN_INTEGER;
      request.minMatchLen = n < 0n ? 0n : n;
    } else return SYNTAX_ERROR;
  }
  return request.len && request.idx ? LEN_AND_IDX : request;
}

function describeMatch(match: LcsMatch, withLength: boolean): RespValue {
  const items = [
    array([integer(match.aStart), integer(match.aEnd)]),
    array([integer(match.bStart), integer(match.bEnd)]),
  ];
  if (withLength) items.push(integer(match.length));
  return array(items);
}

async function lcs(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const request = parseOptions(args);
  if ('kind' in request) return request;
  const values = await ctx.store.getMany([args[1]!, args[2]!]);
  for (const value of values) {
    if (value === undefined) ctx.server.counters.keyspaceMisses++;
    else ctx.server.counters.keyspaceHits++;
  }
  const [a = Buffer.alloc(0), b = Buffer.alloc(0)] = values;
  if (lcsTableBytes(a.length, b.length) > ctx.server.settings.maxBulkBytes) return TABLE_TOO_LARGE;
  const result = longestCommonSubsequence(a, b);
  if (request.len) return integer(result.length);
  if (!request.idx) return bulk(result.text);
  const matches = result.matches.filter(
    (match) => request.minMatchLen === 0n || BigInt(match.length) >= request.minMatchLen,
  );
  return map([
    [bulk('matches'), array(matches.map((match) => describeMatch(match, request.withMatchLen)))],
    [bulk('len'), integer(result.length)],
  ]);
}

/** LCS. */
export const lcsCommand: CommandSpec = {
  name: 'lcs',
  arity: -3,
  flags: ['readonly'],
  kind: 'read',
  keys: [1, 2, 1],
  handler: lcs,
  summary: 'Finds the longest common subsequence of two values.',
};
