// Owns answering a run of plain GETs from the shared index straight into a RespWriter's slab:
// the one loop a network thread (get-connection.ts) and the main thread's plain-GET path
// (plain-gets.ts) both run. Keys are hashed a group ahead (RecordReader.hashAhead), and each
// value goes from the segment's map into the reply with no Buffer of its own.

import { KEY_GROUP } from '../../shared/key-groups.js';
import type { RecordReader } from '../../shared/record-reader.js';
import type { RespProtocol, RespWriter } from './resp-writer.js';

/** `$-1\r\n`. */
const NULL_REPLY_BYTES = 5;
/** A bulk reply's bytes beside its value's, near enough for a budget: `$`, CRLF twice. */
const BULK_OVERHEAD_BYTES = 5;

/** What `writeGetReplies` answered. Reused by its caller: nothing is allocated per run. */
export class GetRun {
  /** GETs answered (their replies written), in order from the first. */
  answered = 0;
  /** How many of them found a value. */
  hits = 0;
  /** The read of the next GET threw (damage or an I/O error); its reply was not written. */
  failed = false;
}

/**
 * Writes the replies to `GET keys[i]` in `protocol`, in order, into `writer`, until all are answered or
 * the replies reach `budgetBytes` (at least one is answered). A read that throws stops the run
 * (`run.failed`): the caller has that GET answered by the general path, which replies with the
 * error.
 */
export function writeGetReplies(
  reader: RecordReader,
  keys: readonly Buffer[],
  writer: RespWriter,
  budgetBytes: number,
  run: GetRun,
  protocol: RespProtocol,
): void {
  let bytes = 0;
  let hits = 0;
  let answered = 0;
  run.failed = false;
  try {
    for (let from = 0; from < keys.length && bytes < budgetBytes; from += KEY_GROUP) {
      reader.hashAhead(keys, from);
      const to = Math.min(keys.length, from + KEY_GROUP);
      for (let i = from; i < to && bytes < budgetBytes; i++) {
        const length = reader.findValue(keys[i]!, i - from);
        if (length < 0) {
          writer.nullBulk(protocol);
          bytes += NULL_REPLY_BYTES;
        } else {
          writer.bulkFrom(length, reader);
          bytes += length + BULK_OVERHEAD_BYTES;
          hits++;
        }
        answered++;
      }
    }
  } catch {
    run.failed = true;
  }
  run.answered = answered;
  run.hits = hits;
}
