// Owns the error replies of BITCOUNT's and BITPOS's arguments (bit-queries.ts names which).

import { error, type RespValue } from '../../resp-value.js';
import { NOT_AN_INTEGER, SYNTAX_ERROR } from '../arguments.js';
import type { BitArgumentError } from './bit-queries.js';

const BAD_BIT = error('ERR The bit argument must be 1 or 0.');

/** The reply to a request `parseBitCount` or `parseBitPos` refused. */
export function bitArgumentError(kind: BitArgumentError): RespValue {
  return kind === 'syntax' ? SYNTAX_ERROR : kind === 'not-integer' ? NOT_AN_INTEGER : BAD_BIT;
}
