// Owns the main thread's plain-GET path: a client with nothing pending whose next requests are
// plain GETs (get-request-scan.ts) has them answered straight from the bytes it sent, through
// this thread's reader of the shared index, into its reply slab: no parsed arguments, Request,
// reply value or store batch per GET, as a network thread answers them (get-replies.ts). The
// counters move as for any GET. Everything else takes the connection's general path.

import { GetRequestScan, SCAN_GET } from '../../shared/get-request-scan.js';
import type { RecordReader } from '../../shared/record-reader.js';
import type { ClientSession } from './client-session.js';
import type { ServerCounters } from './command-context.js';
import { type CommandStats, countBatch } from './command-stats.js';
import { GetRun, writeGetReplies } from './get-replies.js';
import type { RespParser } from './resp-parser.js';
import type { RespProtocol, RespWriter } from './resp-writer.js';

/** Reply bytes answered in one go, before the connection writes them and looks at its socket. */
const REPLY_BUDGET_BYTES = 512 * 1024;

/** What the path needs of the store. */
export interface PlainGetStore {
  /** This thread's reader of the shared index, or undefined unless the store is open and well. */
  localReaderIfOpen(): RecordReader | undefined;
}

/** One server's plain-GET path, shared by its main-thread connections. Main thread. */
export class PlainGets {
  private readonly scan: GetRequestScan;
  private readonly keys: Buffer[] = [];
  private readonly run = new GetRun();

  constructor(
    private readonly store: PlainGetStore,
    maxKeyBytes: number,
    private readonly counters: ServerCounters,
    private readonly commandStats: CommandStats,
  ) {
    this.scan = new GetRequestScan(maxKeyBytes);
  }

  /**
   * Answers the plain GETs next in `parser`'s input for `session` (to whom nothing else is owed)
   * into `writer`, if its session answers a GET as any other: returns how many it answered.
   */
  answerNext(parser: RespParser, writer: RespWriter, session: ClientSession): number {
    const input = parser.unparsed;
    if (input === undefined || !takesPlainGets(session)) return 0;
    const from = parser.unparsedAt;
    const end = this.answer(input, from, writer, session.protocol);
    if (end === from) return 0;
    parser.skipTo(end);
    return this.run.answered;
  }

  /** Whether a plain GET is next in `parser`'s input, which the path could answer for `session`. */
  startsNext(parser: RespParser, session: ClientSession): boolean {
    const input = parser.unparsed;
    return (
      input !== undefined &&
      takesPlainGets(session) &&
      this.store.localReaderIfOpen() !== undefined &&
      this.scan.scan(input, parser.unparsedAt, input.length) === SCAN_GET
    );
  }

  /**
   * Answers the plain GETs that start `bytes` at `from`, in order, into `writer`, up to a reply
   * budget; returns where the first request it did not answer starts (`from` when none). A GET
   * whose read throws is left for the general path, which replies with the error.
   */
  answer(bytes: Buffer, from: number, writer: RespWriter, protocol: RespProtocol): number {
    const reader = this.store.localReaderIfOpen();
    if (reader === undefined) return from;
    const scan = this.scan;
    const keys = this.keys;
    let p = from;
    while (p < bytes.length && scan.scan(bytes, p, bytes.length) === SCAN_GET) {
      keys.push(bytes.subarray(scan.keyStart, scan.keyEnd));
      p = scan.next;
    }
    if (keys.length === 0) return from;
    const started = performance.now();
    const run = this.run;
    writeGetReplies(reader, keys, writer, REPLY_BUDGET_BYTES, run, protocol);
    const answered = run.answered;
    const end = answered === keys.length ? p : requestStart(bytes, keys[answered]!);
    keys.length = 0;
    if (answered > 0) {
      const counters = this.counters;
      counters.commandsProcessed += answered;
      counters.keyspaceHits += run.hits;
      counters.keyspaceMisses += answered - run.hits;
      const usec = (performance.now() - started) * 1000;
      countBatch(this.commandStats.of('get'), answered, usec);
    }
    return end;
  }
}

/**
 * Whether `session` answers a GET as any client does: authenticated, not in MULTI, not
 * subscribed, not a replication link, not closing (in RESP2 or RESP3: only a miss differs).
 */
export function takesPlainGets(session: ClientSession): boolean {
  return (
    session.authenticated &&
    !session.muted &&
    !session.isMaster &&
    session.subscriptions === undefined &&
    !session.transaction.open &&
    !session.closeRequested
  );
}

/** Where the GET whose key is `key` (a view into `bytes`) starts: `*2\r\n$3\r\nGET\r\n$<n>\r\n`. */
export function requestStart(bytes: Buffer, key: Buffer): number {
  let digits = 1;
  for (let n = key.length; n >= 10; n = Math.floor(n / 10)) digits++;
  return key.byteOffset - bytes.byteOffset - (8 + 5 + 1 + digits + 2);
}
