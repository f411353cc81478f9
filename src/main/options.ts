// Owns Store.open's options: their defaults, their limits and their validation, with the one
// table of option names (RESOLVERS, checked against StoreOptions by the compiler) that decides
// which names Store.open accepts.

import {
  COMPRESSIONS,
  type Compression,
  compressorFor,
  DEFAULT_COMPRESSION,
  DEFAULT_ZSTD_LEVEL,
  MAX_ZSTD_LEVEL,
  MIN_ZSTD_LEVEL,
} from '../shared/block-compression.js';
import { KvError } from '../shared/errors.js';
import { fileMaps, fileMapsStatus } from '../shared/file-map.js';
import { LOG_LEVELS, type Logger } from '../shared/logger.js';
import type { Durability } from '../shared/messages.js';
import type { ReadMode } from '../shared/segment-fds.js';
import { refuseUnknown } from './unknown-options.js';
import { usableCores } from './usable-cores.js';

// Durability and ReadMode are defined where the threads' shared code needs them (src/shared:
// workers never import src/main) and reach the public API through this module, so each keeps
// one definition and the API takes every option type from here.
export type { Compression, Durability, ReadMode };

/**
 * Compaction settings (`StoreOptions.compaction`). Every field is optional; `Store.open` refuses
 * a name not listed here with `KV_INVALID_ARGUMENT`.
 */
export interface CompactionOptions {
  /** Merge automatically when the triggers below fire (default true); `compact()` always works. */
  auto?: boolean;
  /** How often the triggers are checked, and hint files of sealed segments written (default 10 s). */
  intervalMs?: number;
  /** Merge when a segment's reclaimable bytes reach this share of it (default 0.6, as Bitcask). */
  triggerDeadRatio?: number;
  /** ...or this many bytes (default 512 MiB). */
  triggerDeadBytes?: number;
  /** A merge also takes neighbouring segments at least this dead (default 0.4)... */
  includeDeadRatio?: number;
  /** ...or smaller than this (default 10 MiB). */
  smallSegmentBytes?: number;
  /** Input bytes one merge takes at most (default 1 GiB; at most 3 GiB, as offsets are u32). */
  maxMergeBytes?: number;
  /** Compaction I/O rate limit in bytes per second, so it does not starve writes (default 64 MiB/s; 0 = none). */
  bytesPerSecond?: number;
  /**
   * When no merge is due, the automatic check rewrites sealed log segments sorted by key (data
   * segments, as a merge writes them), so range scans of a freshly written store walk sorted
   * blocks instead of reading the log record by record (default true). Each byte written is
   * then written once more, in the background, within `bytesPerSecond`.
   */
  sortSealed?: boolean;
}

/**
 * Options of `Store.open`. Every field is optional; `Store.open` refuses a name not listed here
 * with `KV_INVALID_ARGUMENT`.
 */
export interface StoreOptions {
  /** When a write is durable: `always` (fdatasync before the promise resolves), `everysec` (default), `no`. */
  durability?: Durability;
  /** Reader pool threads (default: the cores kvd may use: its affinity's, capped by a cgroup CPU quota). */
  readers?: number;
  /** Size at which the active segment is sealed and a new one started (default 64 MiB; 4 KiB to 1 GiB). */
  segmentBytes?: number;
  /** Largest key in bytes (default 65,536; at most 16 MiB). */
  maxKeyBytes?: number;
  /** Largest value in bytes (default 16 MiB; at most 1 GiB). */
  maxValueBytes?: number;
  /**
   * How records are read: `mmap` (the default where kvd's native addon is built: segments are
   * memory-mapped, a read is a memory copy) or `pread` (one system call a read; the fallback).
   */
  readMode?: ReadMode;
  /**
   * Reads issued together (the gets of one event-loop turn, one getMany, one has) of up to this
   * many keys are served on the calling thread, like getSync, instead of by the reader pool,
   * whose round trip costs more than a hundred reads; bigger batches go to the pool, so the
   * event loop is never blocked for more than this many reads. Default 1,024; 0 sends every
   * read to the pool.
   */
  inlineReadKeys?: number;
  /** Testing only: keep this many bits of each key hash (32 = all) to force hash collisions. */
  hashBits?: number;
  /** Background compaction (merge) and hint files; see CompactionOptions. */
  compaction?: CompactionOptions;
  /**
   * Period of the index snapshot written while writes happen, in ms (default 300,000; 0: only
   * the one written at close). Open loads the newest snapshot and replays only the log after it.
   */
  snapshotIntervalMs?: number;
  /**
   * Hears recovery's progress during `open`, in bytes of segments processed (for a progress
   * bar). Not supported by `spawnStore` (a function cannot cross the process boundary).
   */
  onRecoveryProgress?: (bytesDone: number, bytesTotal: number) => void;
  /**
   * Where the store logs (open, close, recovery, rotation, snapshots, merges, failures, from
   * every thread of the store): a pino logger, or any object with `debug`, `info`, `warn` and
   * `error` methods taking `(fields, message)`; `true` for kvd's JSON lines on stderr at the
   * level KVD_LOG_LEVEL names (default info). Default: nothing is logged. A logger's lines
   * arrive on the thread that opened the store; the writer thread sends only the lines at or
   * above the level the logger's `level` property names when the store opens (every line if
   * it has none). `spawnStore` takes `true` but not an object (it cannot cross processes).
   */
  logger?: Logger | boolean;
  /**
   * Repair the directory before opening it (default false; `kvd repair` does this): read every
   * segment whole, keep every intact record (a batch only whole), save each damaged stretch to
   * a `NNNNNN.log.damaged-<offset>` file beside its segment and remove it from the segment,
   * set aside a segment whose header cannot be read (`NNNNNN.log.damaged`), then rebuild the
   * index, the hint files and the index snapshot. `stats().recovery.repair` reports what was
   * lost, with key names where they can still be read.
   */
  repair?: boolean;
  /**
   * How often the active expiry cycle runs, in ms (default 100, ten times a second as Redis;
   * 0 turns it off, leaving expired keys to the reads that find them and to merges). Each
   * cycle samples keys at random and deletes those that have expired, for at most 5 ms.
   */
  expiryCycleMs?: number;
  /**
   * A snapshot (`Store.snapshot()`, and the one each range scan reads from) still held after
   * this many ms is released, with one log line (default 300,000; 0: never). While any
   * snapshot is held, merges wait to retire segments.
   */
  snapshotTimeoutMs?: number;
  /**
   * How the blocks of the sorted segments the store writes are compressed: `none` (the default,
   * chosen by measurement: ARCHITECTURE.md, "Block compression: choice"), `lz4` or `zstd`. A
   * block is stored compressed only if that saves at least 1/8 of it. Today the sorted segments
   * are the key runs (`NNNNNN.keys`) that range scans read; a store reads blocks of every
   * compression whatever this says. `lz4` and `zstd` need their npm packages (lz4-napi,
   * zstd-napi, optional dependencies): without them `Store.open` refuses the option.
   */
  compression?: Compression;
  /** The zstd level, 1 to 22 (default 3); only with `compression: 'zstd'`. */
  compressionLevel?: number;
}

/** Options with every default filled in. */
export type ResolvedOptions = Required<
  Omit<StoreOptions, 'compaction' | 'onRecoveryProgress' | 'logger' | 'compressionLevel'>
> & {
  /** The zstd level (undefined unless `compression` is zstd). */
  compressionLevel: number | undefined;
  compaction: Required<CompactionOptions>;
  onRecoveryProgress?: ((bytesDone: number, bytesTotal: number) => void) | undefined;
  /** The logger option as given (checked; false if absent): see store-logger.ts. */
  logger: Logger | boolean;
};

/** Default option values (see the README's options table). */
export const DEFAULTS = {
  /** Default durability: 'everysec'. */
  durability: 'everysec',
  /** Default segmentBytes: 64 MiB. */
  segmentBytes: 64 * 1024 * 1024,
  /** Default maxKeyBytes: 64 KiB. */
  maxKeyBytes: 64 * 1024,
  /** Default maxValueBytes: 16 MiB. */
  maxValueBytes: 16 * 1024 * 1024,
  /** Default hashBits: 32 (every bit; fewer only in collision tests). */
  hashBits: 32,
  /** Default snapshotIntervalMs: 5 minutes. */
  snapshotIntervalMs: 300_000,
  /** Default expiryCycleMs: 100 (ten cycles a second). */
  expiryCycleMs: 100,
  /** Default snapshotTimeoutMs: 5 minutes. */
  snapshotTimeoutMs: 300_000,
  /** Default inlineReadKeys: 1,024 (the daemon reads a turn's GETs inline up to the same count). */
  inlineReadKeys: 1024,
  /** Defaults of the compaction options (see CompactionOptions). */
  compaction: {
    /** Default: automatic compaction on. */
    auto: true,
    /** Default: check every 10 s. */
    intervalMs: 10_000,
    /** Default: 0.6 (as Bitcask). */
    triggerDeadRatio: 0.6,
    /** Default: 512 MiB. */
    triggerDeadBytes: 512 * 1024 * 1024,
    /** Default: 0.4. */
    includeDeadRatio: 0.4,
    /** Default: 10 MiB. */
    smallSegmentBytes: 10 * 1024 * 1024,
    /** Default: 1 GiB of input per merge. */
    maxMergeBytes: 1024 * 1024 * 1024,
    /** Default: 64 MiB/s. */
    bytesPerSecond: 64 * 1024 * 1024,
    /** Default: sealed log segments are rewritten sorted. */
    sortSealed: true,
  } satisfies Required<CompactionOptions>,
} as const;

/** Hard ceilings: record lengths are u32 and one record must fit in a Buffer. */
export const LIMITS = {
  /** Largest maxKeyBytes accepted: 16 MiB. */
  maxKeyBytes: 16 * 1024 * 1024,
  /** Largest maxValueBytes accepted: 1 GiB. */
  maxValueBytes: 1024 * 1024 * 1024,
  /** Smallest segmentBytes accepted: 4 KiB. */
  minSegmentBytes: 4096,
  /** Largest segmentBytes accepted: 1 GiB. */
  maxSegmentBytes: 1024 * 1024 * 1024,
  /** Encoded size of one atomic batch: it must land in one segment, whose offsets are u32. */
  maxBatchBytes: 1024 * 1024 * 1024,
} as const;

/**
 * Fills in defaults and checks ranges. Throws `KV_INVALID_ARGUMENT` for a bad value or an
 * option name `Store.open` does not know (at the top level or in `compaction`).
 */
export function resolveOptions(options: StoreOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  refuseUnknown(options, RESOLVERS, '');
  const resolved: Partial<Record<OptionName, unknown>> = {};
  for (const name of Object.keys(RESOLVERS) as OptionName[]) {
    resolved[name] = resolveOne(name, options[name]);
  }
  const done = resolved as ResolvedOptions;
  // Loads the binding now, so a missing one fails at open rather than at the first merge.
  compressorFor(done.compression, options.compressionLevel);
  if (done.compression === 'zstd') done.compressionLevel ??= DEFAULT_ZSTD_LEVEL;
  return done;
}

type OptionName = keyof StoreOptions;
type Resolvers = {
  readonly [K in OptionName]: (value: StoreOptions[K]) => ResolvedOptions[K];
};

/**
 * Each option's default and check, by name. Its keys are the option names `Store.open` accepts:
 * the type requires exactly one entry per `StoreOptions` field, so adding an option is its
 * field and its entry here. Compaction's names are those of `DEFAULTS.compaction`.
 */
const RESOLVERS: Resolvers = {
  durability: (v = DEFAULTS.durability) => {
    if (!['always', 'everysec', 'no'].includes(v)) {
      throw invalid(`durability must be always, everysec or no (got ${String(v)})`);
    }
    return v;
  },
  readers: (v = usableCores()) => checkInteger('readers', v, 1, 256),
  segmentBytes: (v = DEFAULTS.segmentBytes) =>
    checkInteger('segmentBytes', v, LIMITS.minSegmentBytes, LIMITS.maxSegmentBytes),
  maxKeyBytes: (v = DEFAULTS.maxKeyBytes) => checkInteger('maxKeyBytes', v, 0, LIMITS.maxKeyBytes),
  maxValueBytes: (v = DEFAULTS.maxValueBytes) =>
    checkInteger('maxValueBytes', v, 0, LIMITS.maxValueBytes),
  readMode: (v = fileMaps ? 'mmap' : 'pread') => {
    if (v !== 'mmap' && v !== 'pread') {
      throw invalid(`readMode must be mmap or pread (got ${String(v)})`);
    }
    if (v === 'mmap' && !fileMaps) {
      throw invalid(`readMode 'mmap' needs kvd's native addon: ${fileMapsStatus}`);
    }
    return v;
  },
  inlineReadKeys: (v = DEFAULTS.inlineReadKeys) => checkInteger('inlineReadKeys', v, 0, 1_000_000),
  hashBits: (v = DEFAULTS.hashBits) => checkInteger('hashBits', v, 1, 32),
  compaction: (v) => resolveCompaction(v),
  snapshotIntervalMs: (v = DEFAULTS.snapshotIntervalMs) =>
    checkInteger('snapshotIntervalMs', v, 0, 24 * 3600 * 1000),
  onRecoveryProgress: (v) => {
    if (v !== undefined && typeof v !== 'function') {
      throw invalid('onRecoveryProgress must be a function');
    }
    return v;
  },
  expiryCycleMs: (v = DEFAULTS.expiryCycleMs) => checkInteger('expiryCycleMs', v, 0, 60_000),
  snapshotTimeoutMs: (v = DEFAULTS.snapshotTimeoutMs) =>
    checkInteger('snapshotTimeoutMs', v, 0, 7 * 24 * 3600 * 1000),
  compression: (v = DEFAULT_COMPRESSION) => {
    if (!COMPRESSIONS.includes(v)) {
      throw invalid(`compression must be one of ${COMPRESSIONS.join(', ')} (got ${String(v)})`);
    }
    return v;
  },
  compressionLevel: (v) =>
    v === undefined
      ? undefined
      : checkInteger('compressionLevel', v, MIN_ZSTD_LEVEL, MAX_ZSTD_LEVEL),
  repair: (v = false) => {
    if (typeof v !== 'boolean') throw invalid(`repair must be a boolean (got ${String(v)})`);
    return v;
  },
  logger: (v = false) => {
    if (typeof v === 'boolean') return v;
    const methods = v as unknown as Record<string, unknown> | null;
    if (typeof v !== 'object' || !LOG_LEVELS.every((m) => typeof methods?.[m] === 'function')) {
      throw invalid('logger must be true, false or an object with debug, info, warn and error');
    }
    return v;
  },
};

function resolveOne<K extends OptionName>(name: K, value: StoreOptions[K]): ResolvedOptions[K] {
  return RESOLVERS[name](value);
}

function resolveCompaction(given: CompactionOptions | undefined): Required<CompactionOptions> {
  if (given === undefined) return { ...DEFAULTS.compaction };
  if (typeof given !== 'object' || given === null) throw invalid('compaction must be an object');
  refuseUnknown(given, DEFAULTS.compaction, 'compaction.');
  const c = { ...DEFAULTS.compaction } as Required<CompactionOptions>;
  for (const name of Object.keys(c) as (keyof CompactionOptions)[]) {
    if (given[name] !== undefined) (c as Record<string, unknown>)[name] = given[name];
  }
  checkCompaction(c);
  return c;
}

function checkCompaction(c: Required<CompactionOptions>): void {
  for (const name of ['auto', 'sortSealed'] as const) {
    if (typeof c[name] !== 'boolean') throw invalid(`compaction.${name} must be a boolean`);
  }
  checkInteger('compaction.intervalMs', c.intervalMs, 10, 24 * 3600 * 1000);
  for (const name of ['triggerDeadRatio', 'includeDeadRatio'] as const) {
    const v = c[name];
    if (typeof v !== 'number' || !(v > 0 && v <= 1)) {
      throw invalid(`compaction.${name} must be a number in (0, 1] (got ${String(v)})`);
    }
  }
  checkInteger('compaction.triggerDeadBytes', c.triggerDeadBytes, 1, Number.MAX_SAFE_INTEGER);
  checkInteger('compaction.smallSegmentBytes', c.smallSegmentBytes, 0, Number.MAX_SAFE_INTEGER);
  checkInteger('compaction.maxMergeBytes', c.maxMergeBytes, 1, 3 * 1024 * 1024 * 1024);
  checkInteger('compaction.bytesPerSecond', c.bytesPerSecond, 0, Number.MAX_SAFE_INTEGER);
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be an integer from ${min} to ${max} (got ${String(value)})`);
  }
  return value;
}

function invalid(message: string): KvError {
  return new KvError('KV_INVALID_ARGUMENT', message);
}
