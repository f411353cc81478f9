// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]. The expiry is stored in the
// record. Plain SET is `Store.set`; NX, XX, GET and KEEPTTL are `Store.setWith`, which the
// writer applies atomically against every other write (never a read followed by a write).

import type { CommandContext } from '../../command-context.js';
import { bulkOrNull, NULL, OK, type RespValue } from '../../resp-value.js';
import { keyword, SYNTAX_ERROR } from '../arguments.js';
import type { CommandSpec } from '../command-spec.js';
import { type ExpiryOption, expiryFromArgument, isExpiryOption } from './expiry-argument.js';

/** What the options of one SET asked for. */
interface SetRequest {
  condition?: 'nx' | 'xx';
  get?: boolean;
  keepTtl?: boolean;
  expiry?: { option: ExpiryOption; amount: Buffer };
}

/** Parses the options after `SET key value`; a syntax error gives an error reply. */
function parseOptions(args: readonly Buffer[]): SetRequest | RespValue {
  const request: SetRequest = {};
  for (let i = 3; i < args.length; i++) {
    const option = keyword(args[i]!);
    if (option === 'nx' || option === 'xx') {
      if (request.condition !== undefined && request.condition !== option) return SYNTAX_ERROR;
      request.condition = option;
    } else if (option === 'get') {
      request.get = true;
    } else if (option === 'keepttl') {
      if (request.expiry) return SYNTAX_ERROR;
      request.keepTtl = true;
    } else if (isExpiryOption(option)) {
      const amount = args[i + 1];
      if (amount === undefined || request.keepTtl) return SYNTAX_ERROR;
      if (request.expiry && request.expiry.option !== option) return SYNTAX_ERROR;
      request.expiry = { option, amount };
      i++;
    } else {
      return SYNTAX_ERROR;
    }
  }
  return request;
}

/** The reply of a SET that wrote. */
function ok(): RespValue {
  return OK;
}

/** Plain `SET key value` (no option), the common case: one store write and nothing else. */
function isPlainSet(args: readonly Buffer[]): boolean {
  return args.length === 3;
}

function set(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  if (isPlainSet(args)) return ctx.store.set(args[1]!, args[2]!).then(ok);
  return setWithOptions(ctx, args);
}

async function setWithOptions(ctx: CommandContext, args: readonly Buffer[]): Promise<RespValue> {
  const request = parseOptions(args);
  if ('kind' in request) return request;
  const now = Date.now();
  const at = request.expiry
    ? expiryFromArgument('set', request.expiry.option, request.expiry.amount, now)
    : 0;
  if (typeof at !== 'number') return at;
  const key = args[1]!;
  const value = args[2]!;
  if (request.condition === undefined && !request.get && !request.keepTtl) {
    // An expiry already past deletes the key, as Redis does, rather than storing a dead value.
    if (at !== 0 && at <= now) await ctx.store.delete(key);
    else await ctx.store.set(key, value, { expiresAt: at });
    return OK;
  }
  const result = await ctx.store.setWith(key, value, {
    ifAbsent: request.condition === 'nx',
    ifPresent: request.condition === 'xx',
    returnPrevious: request.get === true,
    keepExpiry: request.keepTtl === true,
    expiresAt: at,
  });
  if (request.get) return bulkOrNull(result.previous);
  return result.written ? OK : NULL;
}

/** SET. */
export const setCommand: CommandSpec = {
  name: 'set',
  arity: -3,
  flags: ['write', 'denyoom'],
  kind: 'write',
  keys: [1, 1, 1],
  handler: set,
  direct: { kind: 'put', applies: isPlainSet },
};
