// GETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST]: answers the value (null if none) and
// sets or removes its expiry; a time already past deletes the key. As in Redis, the time is
// judged only once the key is found: a missing key answers null even to a bad time. With an
// option it rewrites the key through atomicallyInTurn() (value and new expiry in one
// conditioned batch), so the value answered is the one whose expiry changed.

import type { BatchOp } from '../../../index.js';
import type { CommandContext } from '../../command-context.js';
import { atomicallyInTurn } from '../../key-turns.js';
import { bulk, NULL, type RespValue } from '../../resp-value.js';
import { keyword, SYNTAX_ERROR } from '../arguments.js';
import type { CommandSpec } from '../command-spec.js';
import { type ExpiryOption, expiryFromArgument, isExpiryOption } from './expiry-argument.js';

/** What GETEX's options asked for. */
type GetexRequest =
  | { readonly action: 'keep' }
  | { readonly action: 'persist' }
  | { readonly action: 'expire'; readonly option: ExpiryOption; readonly amount: Buffer };

/** Parses the options after the key (Redis's rules: one expiry option, or PERSIST). */
function parseOptions(args: readonly Buffer[]): GetexRequest | RespValue {
  let request: GetexRequest = { action: 'keep' };
  for (let i = 2; i < args.length; i++) {
    const option = keyword(args[i]!);
    if (option === 'persist') {
      if (request.action === 'expire') return SYNTAX_ERROR;
      request = { action: 'persist' };
    } else if (isExpiryOption(option)) {
      const amount = args[i + 1];
      if (amount === undefined || request.action === 'persist') return SYNTAX_ERROR;
      if (request.action === 'expire' && request.option !== option) return SYNTAX_ERROR;
      request = { action: 'expire', option, amount };
      i++;
    } else {
      return SYNTAX_ERROR;
    }
  }
  return request;
}

async function getex(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const parsed = parseOptions(args);
  if (!('action' in parsed)) return parsed;
  const now = Date.now();
  // As in Redis, a bad time is refused only for a key that exists: a missing one answers null.
  const expiry =
    parsed.action === 'expire' ? expiryFromArgument('getex', parsed.option, parsed.amount, now) : 0;
  const key = args[1]!;
  return atomicallyInTurn(ctx.store, [key], ([entry]) => {
    if (entry === undefined) return { writes: [], reply: NULL };
    if (typeof expiry !== 'number') return { writes: [], reply: expiry };
    const at = expiry;
    const reply = bulk(entry.value);
    let writes: BatchOp[] = [];
    if (parsed.action === 'expire') {
      writes =
        at <= now
          ? [{ type: 'delete', key }]
          : [{ type: 'set', key, value: entry.value, expiresAt: at }];
    } else if (parsed.action === 'persist' && entry.expiresAt !== 0) {
      writes = [{ type: 'set', key, value: entry.value, expiresAt: 0 }];
    }
    return { writes, reply };
  });
}

/** GETEX. */
export const getexCommand: CommandSpec = {
  name: 'getex',
  arity: -2,
  flags: ['write', 'fast'],
  kind: 'exclusive', // reads after the connection's earlier requests have settled
  keys: [1, 1, 1],
  handler: getex,
  summary: "Answers a key's value and sets or removes its expiry.",
};
