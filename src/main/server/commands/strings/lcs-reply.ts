// Owns LCS's options and reply as pure functions: what a request asks (or which error it
// earns), and the reply for two values. The main thread's handler (lcs.ts) and a network thread
// (src/workers/thread-commands.ts) both answer with them, so the two cannot differ; nothing here
// reaches the store.

import type { Buffer } from 'node:buffer';
import { parseInteger } from '../../../../shared/write-ops.js';
import { array, bulk, error, integer, map, type RespValue } from '../../resp-value.js';
import { NOT_AN_INTEGER, SYNTAX_ERROR } from '../error-replies.js';
import { keyword } from '../keyword.js';
import { type LcsMatch, lcsTableBytes, longestCommonSubsequence } from './lcs-table.js';

const LEN_AND_IDX = error('ERR If you want both the length and indexes, please just use IDX.');
const TABLE_TOO_LARGE = error(
  'ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len',
);

/** What LCS's options asked for. */
export interface LcsRequest {
  len: boolean;
  idx: boolean;
  withMatchLen: boolean;
  minMatchLen: bigint;
}

/** LCS's options (`args` with the name and both keys), or the error they earn. */
export function parseLcsRequest(args: readonly Buffer[]): LcsRequest | RespValue {
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

/**
 * LCS's reply for the values `a` and `b` (empty for a missing key): the subsequence, its length,
 * or its matching runs; Redis's error if its table would pass `maxBulkBytes`. Pure: the main
 * thread's handler and a network thread (thread-commands.ts) answer with it.
 */
export function lcsReply(
  request: LcsRequest,
  a: Buffer,
  b: Buffer,
  maxBulkBytes: number,
): RespValue {
  if (lcsTableBytes(a.length, b.length) > maxBulkBytes) return TABLE_TOO_LARGE;
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
