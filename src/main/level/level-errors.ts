// Owns how kvd's errors reach abstract-level's callers: a `KvError` whose failure abstract-level
// names (a lock, damage, I/O, a key or value too large, a closed store or snapshot) is rethrown
// with abstract-level's `LEVEL_*` code and the `KvError` as its `cause`; any other passes as is.

import { KvError, type KvErrorCode } from '../index.js';

/** abstract-level's code for each kvd code it has a name for. */
const LEVEL_CODES: Partial<Record<KvErrorCode, string>> = {
  KV_LOCKED: 'LEVEL_LOCKED',
  KV_CORRUPTION: 'LEVEL_CORRUPTION',
  KV_IO: 'LEVEL_IO_ERROR',
  KV_DISK_FULL: 'LEVEL_IO_ERROR',
  KV_KEY_TOO_LARGE: 'LEVEL_INVALID_KEY',
  KV_VALUE_TOO_LARGE: 'LEVEL_INVALID_VALUE',
  KV_CLOSED: 'LEVEL_DATABASE_NOT_OPEN',
  KV_SNAPSHOT_RELEASED: 'LEVEL_SNAPSHOT_NOT_OPEN',
};

/**
 * An error of `KvdLevel` with one of abstract-level's codes (`LEVEL_LOCKED`,
 * `LEVEL_CORRUPTION`, `LEVEL_IO_ERROR`, `LEVEL_INVALID_KEY`, `LEVEL_INVALID_VALUE`,
 * `LEVEL_DATABASE_NOT_OPEN`, `LEVEL_SNAPSHOT_NOT_OPEN`); its `cause` is the `KvError` kvd
 * raised, whose own `code` is more precise (`KV_DISK_FULL` is one kind of `LEVEL_IO_ERROR`).
 */
export class KvdLevelError extends Error {
  /** Always `'KvdLevelError'`. */
  override readonly name = 'KvdLevelError';
  /** abstract-level's code: stable, match on it (or on `cause.code`), never on the message. */
  readonly code: string;

  /** @internal Raised by `KvdLevel` only. */
  constructor(code: string, cause: KvError) {
    super(cause.message, { cause });
    this.code = code;
  }
}

/** `error` as abstract-level's callers should see it (see `KvdLevelError`). */
export function toLevelError(error: unknown): unknown {
  if (!(error instanceof KvError)) return error;
  const code = LEVEL_CODES[error.code];
  return code === undefined ? error : new KvdLevelError(code, error);
}

/** Runs `read`, rethrowing its error as `toLevelError` maps it. */
export function mapErrors<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw toLevelError(error);
  }
}

/** Awaits `work`, rejecting with its error as `toLevelError` maps it. */
export async function mapRejection<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw toLevelError(error);
  }
}
