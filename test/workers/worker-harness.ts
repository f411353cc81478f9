// Helpers for driving the writer's logic modules on the test thread: temp directories, laying
// out submitted write buffers (seq and CRC zero, as the caller's thread does), crafting segment
// files byte by byte, and opening a WriterService with a RecordReader over its index.

import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { CompactionPolicy } from '../../dist/shared/compaction-messages.js';
import {
  encodeBatchCommitValue,
  encodeRecord,
  encodeSegmentHeader,
  FLAG_IN_BATCH,
  RECORD_HEADER_BYTES,
  type RecordType,
  recordBytes,
  TYPE_BATCH_COMMIT,
  TYPE_DELETE,
  TYPE_PUT,
  writeRecordHeader,
} from '../../dist/shared/format.js';
import { IndexTable } from '../../dist/shared/index-table.js';
import { type Logger, SILENT_LOGGER } from '../../dist/shared/logger.js';
import type {
  Durability,
  ValueReply,
  VoidReply,
  WriterOpened,
  WriterStats,
} from '../../dist/shared/messages.js';
import { RecordReader } from '../../dist/shared/record-reader.js';
import type { FileSystem } from '../../dist/workers/file-system.js';
import { WriterService } from '../../dist/workers/writer-service.js';

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array | undefined): string | undefined =>
  b === undefined ? undefined : Buffer.from(b).toString('utf8');

// --- Temp directories -------------------------------------------------------------------

const dirs = new Set<string>();

/** A fresh empty directory under the OS temp dir; removed by `removeTempDirs`. */
export async function tempDir(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `kvd-workers-${label}-`));
  dirs.add(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all([...dirs].map((d) => rm(d, { recursive: true, force: true })));
  dirs.clear();
}

/** Names of this process's open file descriptors (Linux). */
export function openFds(): string[] {
  return readdirSync('/proc/self/fd');
}

// --- Submitted write buffers -------------------------------------------------------------

/** One record of a submission, as the caller's thread lays it out. */
export type Op =
  | { readonly put: string; readonly value: string | Uint8Array; readonly expiresAt?: number }
  | { readonly del: string }
  | { readonly batch: readonly Op[] }
  | { readonly commit: number; readonly flags?: number }
  | { readonly raw: Uint8Array };

function opRecords(op: Op, flags: number): Uint8Array[] {
  if ('put' in op) {
    const v = typeof op.value === 'string' ? utf8(op.value) : op.value;
    return [layoutRecord(TYPE_PUT, flags, op.expiresAt ?? 0, utf8(op.put), v)];
  }
  if ('del' in op) return [layoutRecord(TYPE_DELETE, flags, 0, utf8(op.del), new Uint8Array(0))];
  if ('batch' in op) {
    const inner = op.batch.flatMap((o) => opRecords(o, FLAG_IN_BATCH));
    const commit = layoutRecord(
      TYPE_BATCH_COMMIT,
      0,
      0,
      new Uint8Array(0),
      encodeBatchCommitValue(inner.length),
    );
    return [...inner, commit];
  }
  if ('commit' in op) {
    return [
      layoutRecord(
        TYPE_BATCH_COMMIT,
        op.flags ?? 0,
        0,
        new Uint8Array(0),
        encodeBatchCommitValue(op.commit),
      ),
    ];
  }
  return [op.raw];
}

/** A record laid out with seq and CRC zero (the writer stamps them). */
export function layoutRecord(
  type: number,
  flags: number,
  expiresAt: number,
  key: Uint8Array,
  value: Uint8Array,
): Uint8Array {
  const b = new Uint8Array(recordBytes(key.length, value.length));
  writeRecordHeader(b, 0, type as RecordType, flags, expiresAt, key.length, value.length);
  b.set(key, RECORD_HEADER_BYTES);
  b.set(value, RECORD_HEADER_BYTES + key.length);
  return b;
}

/** Lays `ops` out into a fresh ArrayBuffer with some spare room; returns it and its length. */
export function submission(ops: readonly Op[]): { buffer: ArrayBuffer; length: number } {
  const parts = ops.flatMap((o) => opRecords(o, 0));
  const length = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(length + 64); // spare bytes past `length` must be ignored
  out.fill(0xee, length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return { buffer: out.buffer, length };
}

/** Number of records `ops` lay out (batches count their commit record). */
export function recordCount(ops: readonly Op[]): number {
  return ops.reduce((n, o) => n + ('batch' in o ? recordCount(o.batch) + 1 : 1), 0);
}

// --- Crafted segment files ---------------------------------------------------------------

/** A sealed record with its seq and CRC, ready to go in a crafted segment. */
export function rec(
  seq: number,
  kind: 'put' | 'del' | 'commit',
  key = '',
  value: string | Uint8Array = '',
  opts: { inBatch?: boolean; expiresAt?: number; count?: number } = {},
): Uint8Array {
  const flags = opts.inBatch ? FLAG_IN_BATCH : 0;
  if (kind === 'commit') {
    return encodeRecord(
      TYPE_BATCH_COMMIT,
      0,
      seq,
      0,
      new Uint8Array(0),
      encodeBatchCommitValue(opts.count ?? 0),
    );
  }
  const v = typeof value === 'string' ? utf8(value) : value;
  if (kind === 'del') return encodeRecord(TYPE_DELETE, flags, seq, 0, utf8(key), new Uint8Array(0));
  return encodeRecord(TYPE_PUT, flags, seq, opts.expiresAt ?? 0, utf8(key), v);
}

/** Segment file bytes: the header for `id`, then `records` back to back. */
export function segment(id: number, records: readonly Uint8Array[]): Buffer {
  return Buffer.concat([encodeSegmentHeader(id), ...records]);
}

// --- A writer on the test thread ---------------------------------------------------------

/** A compaction policy under which `planCompaction(true, …)` takes every sealed segment. */
export const MERGE_EVERYTHING: CompactionPolicy = {
  triggerDeadRatio: 0.6,
  triggerDeadBytes: 1 << 30,
  includeDeadRatio: 0.4,
  smallSegmentBytes: 0,
  maxMergeBytes: 1 << 30,
  sortSealed: false,
  sortSkipThrough: 0,
  sortQuietMs: 0,
};

export interface WriterOptions {
  readonly durability?: Durability;
  readonly segmentBytes?: number;
  readonly hashBits?: number;
  readonly snapshotIntervalMs?: number;
  readonly repair?: boolean;
  /** Period of the everysec background sync (default 1,000 ms). */
  readonly syncIntervalMs?: number;
  /** Period of the active expiry cycle (default 0 here: off, unless a test turns it on). */
  readonly expiryCycleMs?: number;
  /** The file layer the writer goes through (default: node:fs). */
  readonly files?: FileSystem;
  /** Where the writer logs (default: nowhere). */
  readonly logger?: Logger;
}

/** A WriterService opened on `dir`, with a RecordReader over the index it publishes. */
export class OpenWriter {
  private constructor(
    readonly dir: string,
    readonly service: WriterService,
    readonly opened: WriterOpened,
    readonly reader: RecordReader,
    readonly index: IndexTable,
  ) {}

  static async open(dir: string, options: WriterOptions = {}): Promise<OpenWriter> {
    const service = new WriterService({
      logger: options.logger ?? SILENT_LOGGER,
      ...(options.files ? { files: options.files } : {}),
    });
    const opened = expectValue(
      await service.open({
        dir,
        durability: options.durability ?? 'no',
        segmentBytes: options.segmentBytes ?? 1 << 20,
        hashBits: options.hashBits ?? 32,
        snapshotIntervalMs: options.snapshotIntervalMs ?? 0,
        repair: options.repair ?? false,
        ...(options.syncIntervalMs ? { syncIntervalMs: options.syncIntervalMs } : {}),
        expiryCycleMs: options.expiryCycleMs ?? 0,
      }),
    );
    const index = new IndexTable(opened.index);
    return new OpenWriter(dir, service, opened, new RecordReader(dir, index), index);
  }

  /** Submits `ops` as one buffer (not awaited: callers group several before the loop turns). */
  write(ops: readonly Op[]) {
    const { buffer, length } = submission(ops);
    return this.service.write(buffer, length);
  }

  async stats(): Promise<WriterStats> {
    return expectValue(await this.service.stats());
  }

  get(key: string): string | undefined {
    return text(this.reader.get(key));
  }

  async close(): Promise<void> {
    this.reader.close();
    expectVoid(await this.service.close());
  }
}

export function expectValue<T>(reply: ValueReply<T>): T {
  if (!reply.ok) expect.fail(`expected success, got ${reply.error.code}: ${reply.error.message}`);
  return reply.value;
}

export function expectVoid(reply: VoidReply): void {
  if (!reply.ok) expect.fail(`expected success, got ${reply.error.code}: ${reply.error.message}`);
}
