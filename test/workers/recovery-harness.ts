// Helpers for recovery tests on the test thread: run recover() on a directory of crafted
// segment files and look at the result, expect it to fail with a code, write crafted segments.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { KvError } from '../../dist/shared/errors.js';
import { IndexTable } from '../../dist/shared/index-table.js';
import { createLogger, type Logger } from '../../dist/shared/logger.js';
import { RecordReader } from '../../dist/shared/record-reader.js';
import { IndexPublisher } from '../../dist/workers/index-publisher.js';
import { type RecoveryResult, recover } from '../../dist/workers/recovery.js';
import { SegmentTable } from '../../dist/workers/segments.js';
import { text } from './worker-harness.js';

const silent = createLogger('test');

/** A segment file name. */
export const name = (id: number): string => `${String(id).padStart(6, '0')}.log`;

/** What a recovery run left: its result, the segment table and index, and a reader. */
export interface Recovered {
  readonly result: RecoveryResult;
  readonly segments: SegmentTable;
  readonly index: IndexTable;
  get(key: string): string | undefined;
}

/** Runs recovery on `dir`, hands the outcome to `inspect`, and closes every fd it opened. */
export function withRecovery<T>(
  dir: string,
  inspect: (r: Recovered) => T,
  options: { hashBits?: number; log?: Logger } = {},
): T {
  const index = IndexTable.create(0, options.hashBits ?? 32);
  const segments = new SegmentTable(dir, index);
  const publisher = new IndexPublisher(index, segments);
  const reader = new RecordReader(dir, index);
  try {
    const result = recover(segments, publisher, options.log ?? silent);
    return inspect({ result, segments, index, get: (k) => text(reader.get(k)) });
  } finally {
    reader.close();
    publisher.close();
  }
}

/** Expects recovery of `dir` to throw a KvError with `code`; returns it. */
export function expectRecoveryError(dir: string, code: string): KvError {
  let caught: unknown;
  try {
    withRecovery(dir, () => undefined);
  } catch (error) {
    caught = error;
  }
  if (!(caught instanceof KvError))
    expect.fail(`expected a KvError ${code}, got ${String(caught)}`);
  expect(caught.code, caught.message).toBe(code);
  return caught;
}

/** Writes the crafted segment files `files` (id -> bytes) into `dir`. */
export function writeSegments(dir: string, files: Record<number, Uint8Array>): void {
  for (const [id, bytes] of Object.entries(files))
    writeFileSync(join(dir, name(Number(id))), bytes);
}
