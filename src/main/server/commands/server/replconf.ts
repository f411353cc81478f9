// REPLCONF, the replica's half of the replication handshake and acknowledgements:
// `listening-port p`, `ip-address a`, `capa eof|psync2 …` (+OK), `ACK offset` from a replica
// after PSYNC (no reply, as in Redis), `GETACK` (ignored by a master).

import type { CommandContext } from '../../command-context.js';
import { error, type RespValue, simple } from '../../resp-value.js';
import { type CommandSpec, NO_KEYS } from '../command-spec.js';

const OK = simple('OK');

function replconf(ctx: CommandContext, args: readonly Buffer[]): RespValue {
  if (args.length % 2 === 0) return error('ERR syntax error');
  for (let i = 1; i < args.length; i += 2) {
    const option = args[i]!.toString().toLowerCase();
    const value = args[i + 1]!.toString();
    switch (option) {
      case 'listening-port': {
        const port = Number(value);
        if (!Number.isInteger(port) || port < 0 || port > 65_535) {
          return error('ERR value is not an integer or out of range');
        }
        ctx.client.replicaPort = port;
        break;
      }
      case 'capa':
        if (value.toLowerCase() === 'eof') ctx.client.replicaCapaEof = true;
        break;
      case 'ack': {
        const offset = Number(value);
        if (Number.isSafeInteger(offset)) ctx.server.replication.master.ack(ctx.client, offset);
        return OK; // dropped: the replica's replies are muted after PSYNC
      }
      case 'ip-address':
        ctx.client.replicaAnnouncedIp = value;
        break;
      case 'getack':
      case 'rdb-only':
      case 'rdb-filter-only':
        break;
      default:
        return error(`ERR Unrecognized REPLCONF option: ${args[i]!.toString()}`);
    }
  }
  return OK;
}

/** REPLCONF. */
export const replconfCommand: CommandSpec = {
  name: 'replconf',
  arity: -1,
  flags: ['admin', 'noscript', 'loading', 'stale', 'allow-busy'],
  kind: 'none',
  keys: NO_KEYS,
  handler: replconf,
  summary: 'Configures a replica of this server (the replication handshake and its ACKs).',
};
