// Owns the typed messages between the daemon's main thread and its network threads
// (src/workers/network-thread.ts): a client's socket moving between them by fd, the requests a
// network thread has the main thread run for a client it keeps (writes, connection setup, SCAN,
// KEYS; their limits), CLIENT KILL, the clients' state, shutdown, and the counters a network
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
  /** One Int32, 1 while the machine's cores are busy (core-load.ts, `CoreLoad`). */
  readonly coreLoad: SharedArrayBuffer;
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
      /** The protocol it speaks (a client the main thread served may have sent HELLO 3). */
      readonly protocol: 2 | 3;
      /** What it sent that the main thread read and did not parse: taken before its socket. */
      readonly bytes: Uint8Array;
    }
  /** CLIENT KILL: close the client's socket at once. */
  | { readonly kind: 'kill'; readonly id: number }
  /**
   * The replies to the requests sent with `run`, encoded, and the client's state after them.
   */
  | {
      readonly kind: 'ran';
      readonly id: number;
      /** The replies of the first `answered` requests, in order. */
      readonly reply: Uint8Array;
      /**
       * How many of the requests the main thread answered; if fewer than all, the client goes
       * back to it from the next one on (a request it does not run for a thread's client).
       */
      readonly answered: number;
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
   * The client sent requests the thread does not answer itself (a write, SCAN, AUTH, …): the
   * main thread runs them in order for the client's session there (`runRemoteRequests`), up to
   * the first it does not run for a thread's client, and answers with `ran`. The thread keeps
   * the client meanwhile and reads nothing more from it.
   */
  | {
      readonly kind: 'run';
      readonly id: number;
      /** Each request's arguments, the command name first. */
      readonly requests: readonly (readonly Uint8Array[])[];
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
 * A request larger than this is never run remotely: the client goes back to the main thread
 * (a network thread holds at most this much of a request it has not read whole).
 */
export const REMOTE_REQUEST_MAX_BYTES = 64 * 1024;

/**
 * At most this many requests go in one `run`: the requests that follow the first one the thread
 * does not answer, as far as they are complete in what it has read (a pipeline's SETs are one
 * round trip between the threads and one group commit, as on the main thread).
 */
export const REMOTE_BATCH_MAX_REQUESTS = 256;

/** A `run`'s requests stop once they reach this many bytes together. */
export const REMOTE_BATCH_MAX_BYTES = 64 * 1024;
