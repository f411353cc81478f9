// Owns the typed messages between the daemon's main thread and its network threads
// (src/workers/network-thread.ts): a client's socket moving between them by fd, the few
// commands a network thread has the main thread run for a client it keeps (connection setup,
// SCAN, KEYS, RANDOMKEY), CLIENT KILL, the clients' state, shutdown, and the counters a network
// thread publishes in shared memory for INFO.

import type { ConnectionInfo } from '../main/server/connection-options.js';
import type { RespParserLimits } from '../main/server/resp-parser.js';
import { COMMAND_LATENCY_BOUNDS } from './command-latency-bounds.js';
import type { ReaderInit } from './messages.js';

/** What a network thread gets at start-up (workerData). */
export interface NetworkThreadInit extends ReaderInit {
  /** Keys longer than this go back to the main thread, which refuses them as it does. */
  readonly maxKeyBytes: number;
  /** The main thread's request limits: a request it would refuse goes back to it at once. */
  readonly parserLimits: RespParserLimits;
  /** Close a client idle this long (ms); 0: never. */
  readonly idleTimeoutMs: number;
  /** `NETWORK_COUNTERS` float64 slots per thread; this thread writes only its own. */
  readonly counters: SharedArrayBuffer;
  /** This thread's place among the network threads (its counters' slot). */
  readonly slot: number;
  /** Whether to count latencies by bucket (the daemon's metrics endpoint is on). */
  readonly timed: boolean;
}

/**
 * The commands a network thread answers itself, by their place in its counters: GET (a plain
 * one, found in the request bytes), MGET, EXISTS, STRLEN, TYPE, TTL, PTTL, GETRANGE, SUBSTR,
 * GETBIT, TOUCH, EXPIRETIME, PEXPIRETIME, BITCOUNT and BITPOS (src/workers/thread-commands.ts). Everything else goes to the main thread.
 */
export const THREAD_COMMANDS = [
  'get',
  'mget',
  'exists',
  'strlen',
  'type',
  'ttl',
  'pttl',
  'getrange',
  'substr',
  'getbit',
  'touch',
  'expiretime',
  'pexpiretime',
  'bitcount',
  'bitpos',
  'lcs',
  'bitfield_ro',
  'dbsize',
] as const;

// Each thread's slot of float64 counters: the keys it found and did not find, then one block per
// command of THREAD_COMMANDS.
/** Keys found (INFO keyspace_hits). */
export const COUNTER_HITS = 0;
/** Keys not found (INFO keyspace_misses). */
export const COUNTER_MISSES = 1;
/** In a command's block: calls answered. */
export const BLOCK_CALLS = 0;
/** In a command's block: microseconds spent answering them (INFO commandstats' usec). */
export const BLOCK_USEC = 1;
/** In a command's block, with `timed`: their latencies summed, in seconds (the histogram's sum). */
export const BLOCK_LATENCY_SECONDS = 2;
/**
 * In a command's block, with `timed`: calls per latency bucket of `COMMAND_LATENCY_BOUNDS` (not
 * cumulative), from this place on, one more for above every bound.
 */
export const BLOCK_LATENCY_BUCKETS = 3;
/** Counters in a command's block. */
export const COMMAND_BLOCK = BLOCK_LATENCY_BUCKETS + COMMAND_LATENCY_BOUNDS.length + 1;
/** The counters each network thread keeps in its slot (float64 each). */
export const NETWORK_COUNTERS = 2 + THREAD_COMMANDS.length * COMMAND_BLOCK;

/** The place in a slot of `field` (BLOCK_*) of the `command`th of THREAD_COMMANDS. */
export function commandCounter(command: number, field: number): number {
  return 2 + command * COMMAND_BLOCK + field;
}

/**
 * What a network thread knows of one of its clients, for `KvdServer.allClients`: a
 * `ConnectionInfo` but for what the main thread's session for the client adds (its address and
 * name, and which thread serves it).
 */
export type NetworkClientState = Omit<ConnectionInfo, 'address' | 'name' | 'thread'>;

/** From the main thread to a network thread. */
export type ToNetworkThread =
  /**
   * Serve the client whose socket is `fd` (a copy the thread now owns), known as `id`;
   * `authenticated`: whether it may read yet (false until AUTH when a password is required).
   */
  | {
      readonly kind: 'adopt';
      readonly id: number;
      readonly fd: number;
      readonly authenticated: boolean;
    }
  /** CLIENT KILL: close the client's socket at once. */
  | { readonly kind: 'kill'; readonly id: number }
  /**
   * The reply to the client's request sent with `run`, encoded (RESP2), and whether the client
   * is authenticated after it (AUTH).
   */
  | {
      readonly kind: 'ran';
      readonly id: number;
      /**
       * The reply's bytes; undefined for a `run` with `refusedOnly` that was not refused: the
       * thread hands the client back from that request on.
       */
      readonly reply: Uint8Array | undefined;
      readonly authenticated: boolean;
      /** The protocol the client speaks now (HELLO changes it). */
      readonly protocol: 2 | 3;
    }
  /**
   * The daemon is idle (idle-trim.ts): run a full garbage collection of the thread's heap, if
   * the process exposes one (`--expose-gc`), so an idle thread gives its grown heap back.
   */
  | { readonly kind: 'collect' }
  /** Report every client's state (`KvdServer.allClients`); answered with `listed`. */
  | { readonly kind: 'list'; readonly request: number }
  /** Shut down: read no more, send what is answered, end every socket, then say `closed`. */
  | { readonly kind: 'close' };

/** From a network thread to the main thread. */
export type FromNetworkThread =
  /**
   * The client sent a request the thread does not serve: the main thread takes its socket (`fd`,
   * a copy it now owns) and serves it from `bytes` on (that request and what followed it).
   */
  | {
      readonly kind: 'handback';
      readonly id: number;
      readonly fd: number;
      readonly bytes: Uint8Array;
    }
  /**
   * The client sent a request of `REMOTE_COMMANDS`: the main thread runs it for
   * the client's session there and answers with `ran`; the thread keeps the client meanwhile.
   * With `refusedOnly` (any other request), the main thread answers it only if it refuses it at
   * lookup (an unknown command or subcommand, a wrong arity), which changes nothing; otherwise
   * `ran` has no reply and the client goes back.
   */
  | {
      readonly kind: 'run';
      readonly id: number;
      readonly args: readonly Uint8Array[];
      readonly refusedOnly: boolean;
    }
  /** The client's socket closed (it left, was killed, timed out, or could not be adopted). */
  | { readonly kind: 'gone'; readonly id: number }
  /**
   * Answers `collect`: the heap's total bytes before and after (equal when the process exposes
   * no collection).
   */
  | { readonly kind: 'collected'; readonly heapBefore: number; readonly heapAfter: number }
  /** Answers `list`: the state of each client the thread serves now. */
  | {
      readonly kind: 'listed';
      readonly request: number;
      readonly clients: readonly NetworkClientState[];
    }
  /** Every client has been ended after `close`: the thread is about to exit. */
  | { readonly kind: 'closed' };

/**
 * Requests a network thread has the main thread run without giving the client up, by command
 * name (lower case) and, for CLIENT and CONFIG, subcommand:
 * - what client libraries send as they connect (AUTH when a password is set; ioredis: CLIENT
 *   SETINFO, then INFO for its ready check; go-redis 9 and Lettuce: HELLO 3; SELECT 0 where
 *   a database is named; CONFIG GET, as BullMQ checks maxmemory-policy);
 * - the reads of the whole keyspace that need what only the main thread holds: SCAN (its
 *   cursors), KEYS (the key runs and the memtable, in byte order) and RANDOMKEY (sampled
 *   through the writer);
 * - the other reads of the server's state: TIME, LASTSAVE, ROLE, COMMAND, OBJECT, CLIENT
 *   INFO/LIST/HELP (and CLIENT NO-EVICT, which changes nothing).
 * None of them changes more than the client's name, library fields, authentication and
 * protocol, which the main thread's session for the client holds (`ran` carries the last two
 * back). A client on a thread
 * has written nothing (its first write sent it back), so a read run there sees all it could.
 */
export const REMOTE_COMMANDS: ReadonlyMap<string, ReadonlySet<string> | undefined> = new Map<
  string,
  ReadonlySet<string> | undefined
>([
  ['auth', undefined],
  ['hello', undefined],
  ['info', undefined],
  ['ping', undefined],
  ['echo', undefined],
  ['select', undefined],
  ['client', new Set(['setinfo', 'setname', 'getname', 'id', 'info', 'list', 'help', 'no-evict'])],
  ['config', new Set(['get', 'help'])],
  ['scan', undefined],
  ['keys', undefined],
  ['randomkey', undefined],
  ['time', undefined],
  ['lastsave', undefined],
  ['role', undefined],
  ['command', undefined],
  ['object', undefined],
]);

/** A request larger than this is never run remotely: the client goes back to the main thread. */
export const REMOTE_REQUEST_MAX_BYTES = 4096;
