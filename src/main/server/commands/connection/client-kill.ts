// CLIENT KILL and CLIENT LIST: finding connected clients by id, address, kind and age, as Redis
// does. KILL's old form (`CLIENT KILL ip:port`) closes one client or fails; its filter form
// (`ID`, `TYPE`, `ADDR`, `LADDR`, `SKIPME`, `MAXAGE`, all of which must match) answers how many
// it closed, the caller spared unless `SKIPME no`. Sentinel relies on `CLIENT KILL TYPE normal`
// and `TYPE pubsub` when it promotes a replica: clients of the old role reconnect.

import type { ClientSession } from '../../client-session.js';
import type { CommandContext } from '../../command-context.js';
import { bulk, error, integer, OK, type RespValue } from '../../resp-value.js';
import { keyword, SYNTAX_ERROR } from '../arguments.js';

type ClientType = ClientSession['type'];

/** TYPE's names (Redis takes `slave` for `replica`). */
const TYPES = new Map<string, ClientType>([
  ['normal', 'normal'],
  ['master', 'master'],
  ['replica', 'replica'],
  ['slave', 'replica'],
  ['pubsub', 'pubsub'],
]);

interface Filter {
  id?: number;
  type?: ClientType;
  addr?: string;
  laddr?: string;
  skipMe: boolean;
  maxAgeSeconds?: number;
}

const NO_SUCH_CLIENT = error('ERR No such client');

/** Parses KILL's filters (args from index 2), or the error reply. */
function parseFilter(args: readonly Buffer[]): Filter | RespValue {
  const filter: Filter = { skipMe: true };
  if (args.length % 2 !== 0) return SYNTAX_ERROR;
  for (let i = 2; i < args.length; i += 2) {
    const name = keyword(args[i]!);
    const value = args[i + 1]!.toString('latin1');
    switch (name) {
      case 'id': {
        if (!/^\d+$/.test(value)) return error('ERR client-id should be greater than 0');
        filter.id = Number(value);
        break;
      }
      case 'type': {
        const type = TYPES.get(value.toLowerCase());
        if (type === undefined) return error(`ERR Unknown client type '${value}'`);
        filter.type = type;
        break;
      }
      case 'addr':
        filter.addr = value;
        break;
      case 'laddr':
        filter.laddr = value;
        break;
      case 'skipme': {
        const yes = value.toLowerCase();
        if (yes !== 'yes' && yes !== 'no') return SYNTAX_ERROR;
        filter.skipMe = yes === 'yes';
        break;
      }
      case 'maxage': {
        if (!/^\d+$/.test(value)) return error('ERR value is not an integer or out of range');
        filter.maxAgeSeconds = Number(value);
        break;
      }
      default:
        return SYNTAX_ERROR;
    }
  }
  return filter;
}

function matches(session: ClientSession, filter: Filter, me: ClientSession, now: number): boolean {
  if (filter.skipMe && session === me) return false;
  if (filter.id !== undefined && session.id !== filter.id) return false;
  if (filter.type !== undefined && session.type !== filter.type) return false;
  if (filter.addr !== undefined && session.address !== filter.addr) return false;
  if (filter.laddr !== undefined && session.localAddress !== filter.laddr) return false;
  if (filter.maxAgeSeconds !== undefined && now - session.createdAt < filter.maxAgeSeconds * 1000) {
    return false;
  }
  return true;
}

/** Closes `session`: at once, or after this reply when it is the caller's own. */
function kill(session: ClientSession, me: ClientSession): void {
  if (session === me) session.closeAfterReply();
  else session.raw.close();
}

/** CLIENT KILL ip:port | CLIENT KILL <filter> <value> ... */
export function clientKill(ctx: CommandContext, args: readonly Buffer[]): RespValue {
  const me = ctx.client;
  const sessions = [...ctx.server.sessions()];
  if (args.length === 3) {
    const addr = args[2]!.toString('latin1');
    const found = sessions.find((s) => s.address === addr);
    if (!found) return NO_SUCH_CLIENT;
    kill(found, me);
    return OK;
  }
  const filter = parseFilter(args);
  if (!('skipMe' in filter)) return filter;
  const now = Date.now();
  const chosen = sessions.filter((s) => matches(s, filter, me, now));
  for (const session of chosen) kill(session, me);
  return integer(chosen.length);
}

/** CLIENT LIST's flags: N normal, M master link, S replica, P listener, x in MULTI. */
function flags(session: ClientSession): string {
  const type = session.type;
  let f = type === 'master' ? 'M' : type === 'replica' ? 'S' : type === 'pubsub' ? 'P' : '';
  if (session.transaction.open) f += 'x';
  return f === '' ? 'N' : f;
}

/** One CLIENT LIST line (a subset of Redis 8's fields, in its order). */
function describe(session: ClientSession, now: number): string {
  const s = session.subscriptions;
  return [
    `id=${session.id}`,
    `addr=${session.address}`,
    `laddr=${session.localAddress}`,
    `name=${session.name ?? ''}`,
    `age=${Math.floor((now - session.createdAt) / 1000)}`,
    `flags=${flags(session)}`,
    'db=0',
    `sub=${s?.channels.size ?? 0}`,
    `psub=${s?.patterns.size ?? 0}`,
    `multi=${session.transaction.open ? session.transaction.size : -1}`,
    `resp=${session.protocol}`,
    `lib-name=${session.libName}`,
    `lib-ver=${session.libVersion}`,
    `io-thread=${session.ioThread}`,
  ].join(' ');
}

/** CLIENT INFO: the CLIENT LIST line of the client that asks. */
export function clientInfo(ctx: CommandContext): RespValue {
  return bulk(`${describe(ctx.client, Date.now())}\n`);
}

/** CLIENT LIST [TYPE type] [ID id ...] */
export function clientList(ctx: CommandContext, args: readonly Buffer[]): RespValue {
  let sessions = [...ctx.server.sessions()];
  if (args.length > 2) {
    const option = keyword(args[2]!);
    if (option === 'type' && args.length === 4) {
      const type = TYPES.get(keyword(args[3]!));
      if (type === undefined) return error(`ERR Unknown client type '${args[3]!.toString()}'`);
      sessions = sessions.filter((s) => s.type === type);
    } else if (option === 'id' && args.length > 3) {
      const ids = args.slice(3).map((a) => a.toString('latin1'));
      if (ids.some((id) => !/^\d+$/.test(id))) return error('ERR Invalid client ID');
      const wanted = new Set(ids.map(Number));
      sessions = sessions.filter((s) => wanted.has(s.id));
    } else {
      return SYNTAX_ERROR;
    }
  }
  const now = Date.now();
  return bulk(sessions.map((s) => `${describe(s, now)}\n`).join(''));
}
