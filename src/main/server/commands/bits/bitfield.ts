// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset increment]
// [OVERFLOW WRAP|SAT|FAIL] ... and BITFIELD_RO key [GET type offset] ...: integer fields at any
// bit offset (bitfield-ops.ts). With a SET or INCRBY it runs through atomicallyInTurn(), growing
// the value with zero bytes to hold every written field and keeping the key's expiry.

import { Buffer } from 'node:buffer';
import type { CommandContext } from '../../command-context.js';
import { atomicallyInTurn } from '../../key-turns.js';
import { array, error, type RespValue } from '../../resp-value.js';
import type { CommandSpec } from '../command-spec.js';
import { readCounted } from '../strings/counted-read.js';
import { grownCopy } from './bit-string.js';
import { applyFieldOps, parseFieldOps } from './bitfield-ops.js';

const READ_ONLY = error('ERR BITFIELD_RO only supports the GET subcommand');

function bitfieldHandler(readOnly: boolean) {
  return async (ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> => {
    const plan = parseFieldOps(ctx.server.settings.maxBulkBytes, args);
    if ('kind' in plan) return plan;
    const key = args[1]!;
    if (plan.writeBytes === 0) {
      const value = (await readCounted(ctx, key)) ?? Buffer.alloc(0);
      return array(applyFieldOps(value, plan.ops).replies);
    }
    if (readOnly) return READ_ONLY;
    return atomicallyInTurn(ctx.store, [key], ([entry]) => {
      const value = grownCopy(entry?.value, plan.writeBytes);
      const { replies, written } = applyFieldOps(value, plan.ops);
      const grown = value.length !== (entry?.value.length ?? -1);
      return {
        writes:
          written > 0 || grown
            ? [{ type: 'set', key, value, expiresAt: entry?.expiresAt ?? 0 }]
            : [],
        reply: array(replies),
      };
    });
  };
}

/** BITFIELD. */
export const bitfieldCommand: CommandSpec = {
  name: 'bitfield',
  arity: -2,
  flags: ['write', 'denyoom'],
  kind: 'exclusive', // reads after the connection's earlier requests have settled
  keys: [1, 1, 1],
  handler: bitfieldHandler(false),
  summary: "Reads, sets and increments integer fields at any bit offset of a key's value.",
};

/** BITFIELD_RO: BITFIELD's GETs only. */
export const bitfieldRoCommand: CommandSpec = {
  name: 'bitfield_ro',
  arity: -2,
  flags: ['readonly', 'fast'],
  kind: 'read',
  keys: [1, 1, 1],
  handler: bitfieldHandler(true),
  summary: "Reads integer fields at any bit offset of a key's value.",
};
