// Owns start-up recovery: rebuild the shared index by scanning every segment in id order, apply
// atomic batches only when their commit record is present, cut a torn tail off the last
// segment (keeping the cut bytes aside in a .torn file), and refuse to open when a sealed
// segment is damaged. Writer thread only.

import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { ioError, KvError } from '../shared/errors.js';
import {
  batchCommitCount,
  checkSegmentHeader,
  FLAG_IN_BATCH,
  parseSegmentFileName,
  RECORD_HEADER_BYTES,
  recordKeyLength,
  SEGMENT_HEADER_BYTES,
  scanRecord,
  segmentFileName,
  TYPE_BATCH_COMMIT,
  TYPE_DELETE,
  TYPE_PUT,
} from '../shared/format.js';
import type { Logger } from '../shared/logger.js';
import type { IndexPublisher } from './index-publisher.js';
import { type Segment, type SegmentTable, syncDirectory } from './segments.js';

/** What recovery found. */
export interface RecoveryResult {
  /** The last segment (to keep appending to), if any segment exists. */
  readonly last: Segment | undefined;
  readonly lastSeq: number;
  readonly records: number;
  readonly truncatedBytes: number;
}

interface PendingOp {
  readonly type: number;
  readonly offset: number;
  readonly length: number;
}

/** Segment ids present in `dir`, ascending. */
export function listSegmentIds(dir: string): number[] {
  const ids: number[] = [];
  for (const name of readdirSync(dir)) {
    const id = parseSegmentFileName(name);
    if (id !== undefined) ids.push(id);
  }
  return ids.sort((a, b) => a - b);
}

/**
 * Scans every segment in `dir` into the index through `publisher`. Throws `KV_CORRUPTION`
 * naming the file and offset if a sealed segment (any but the last) is damaged.
 */
export function recover(
  segments: SegmentTable,
  publisher: IndexPublisher,
  log: Logger,
): RecoveryResult {
  const dir = segments.dir;
  const ids = listSegmentIds(dir);
  let last: Segment | undefined;
  let lastSeq = 0;
  let records = 0;
  let truncatedBytes = 0;
  const started = performance.now();

  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const isLast = i === ids.length - 1;
    const name = segmentFileName(id);
    const path = join(dir, name);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      throw ioError(`cannot read ${name}`, error);
    }
    const headerProblem = checkSegmentHeader(bytes, id);
    if (
      isLast &&
      (bytes.length < SEGMENT_HEADER_BYTES ||
        (bytes.length === SEGMENT_HEADER_BYTES && headerProblem))
    ) {
      // Crashed while creating the segment (its header is missing or was never made durable):
      // nothing can have been appended to it.
      log.warn({ file: name, bytes: bytes.length }, 'removing a segment cut short at creation');
      unlinkSync(path);
      continue;
    }
    if (headerProblem) throw new KvError('KV_CORRUPTION', `${name} at offset 0: ${headerProblem}`);

    const segment = segments.add(id, bytes.length);
    publisher.setWindow(segment.handle, 0, bytes);
    let at = SEGMENT_HEADER_BYTES;
    let pending: PendingOp[] | undefined;
    let pendingStart = 0;
    let problem = '';
    while (at < bytes.length) {
      const step = scanRecord(bytes, at, bytes.length);
      if (step.kind !== 'record') {
        problem = step.kind === 'short' ? 'record cut short' : step.reason;
        break;
      }
      const { header, length } = step;
      if (header.seq > lastSeq) lastSeq = header.seq;
      if (header.flags & FLAG_IN_BATCH) {
        if (!pending) {
          pending = [];
          pendingStart = at;
        }
        pending.push({ type: header.type, offset: at, length });
      } else if (header.type === TYPE_BATCH_COMMIT) {
        if (!pending || batchCommitCount(bytes, at) !== pending.length) {
          problem = 'batch commit does not match the records before it';
          break;
        }
        for (const op of pending) apply(publisher, bytes, segment.handle, op);
        records += pending.length;
        pending = undefined;
      } else {
        apply(publisher, bytes, segment.handle, { type: header.type, offset: at, length });
        records++;
      }
      at += length;
    }
    const cutAt = pending ? pendingStart : at;
    if (cutAt < bytes.length) {
      if (!isLast) {
        throw new KvError(
          'KV_CORRUPTION',
          `${name} at offset ${problem ? at : cutAt}: ${problem || 'unfinished batch'}`,
        );
      }
      if (isAllZero(bytes, cutAt)) {
        // Space the writer preallocated under `always` (zeros are never a valid record).
        trimFile(path, name, cutAt);
        log.info(
          { file: name, offset: cutAt, bytes: bytes.length - cutAt },
          'trimmed preallocated space',
        );
      } else {
        truncatedBytes += cutTornTail(path, name, bytes, cutAt, problem || 'unfinished batch', log);
      }
      segment.size = cutAt;
    }
    last = segment;
  }
  publisher.clearWindow();
  const seconds = (performance.now() - started) / 1000;
  log.info({ segments: ids.length, records, truncatedBytes, seconds }, 'recovery finished');
  return { last, lastSeq, records, truncatedBytes };
}

function apply(publisher: IndexPublisher, bytes: Uint8Array, handle: number, op: PendingOp): void {
  const keyLength = recordKeyLength(bytes, op.offset);
  const keyStart = op.offset + RECORD_HEADER_BYTES;
  if (op.type === TYPE_PUT) {
    publisher.put(bytes, keyStart, keyLength, { handle, offset: op.offset, length: op.length });
  } else if (op.type === TYPE_DELETE) {
    publisher.remove(bytes, keyStart, keyLength);
  }
}

function isAllZero(bytes: Uint8Array, from: number): boolean {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Truncates a segment file to `size` and fsyncs it. */
function trimFile(path: string, name: string, size: number): void {
  try {
    truncateSync(path, size);
    const fd = openSync(path, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw ioError(`cannot trim ${name}`, error);
  }
}

/** Saves `bytes[cutAt..]` beside the segment, then truncates the segment there and fsyncs it. */
function cutTornTail(
  path: string,
  name: string,
  bytes: Uint8Array,
  cutAt: number,
  reason: string,
  log: Logger,
): number {
  const cut = bytes.length - cutAt;
  let aside = `${path}.torn-${cutAt}`;
  try {
    // Never overwrite bytes an earlier recovery saved: they may be the only copy.
    for (let n = 1; existsSync(aside); n++) aside = `${path}.torn-${cutAt}.${n}`;
    const fd = openSync(aside, 'wx');
    try {
      writeFileSync(fd, bytes.subarray(cutAt));
      fsyncSync(fd); // the saved copy is durable before the segment loses those bytes
    } finally {
      closeSync(fd);
    }
    syncDirectory(dirname(path));
    trimFile(path, name, cutAt);
  } catch (error) {
    throw ioError(`cannot cut the torn tail of ${name}`, error);
  }
  log.warn(
    { file: name, offset: cutAt, bytesCut: cut, reason, savedTo: aside },
    'cut a torn tail off the last segment',
  );
  return cut;
}
