// Owns kvd's error type: one class with a stable string `code`, and the pair of functions that
// carry errors across threads (structured clone drops custom fields, so we serialise by hand).

/** Every error kvd raises carries one of these codes; match on the code, never the message. */
export const ERROR_CODES = [
  'KV_CLOSED',
  'KV_LOCKED',
  'KV_KEY_TOO_LARGE',
  'KV_VALUE_TOO_LARGE',
  'KV_INVALID_ARGUMENT',
  'KV_NOT_INTEGER',
  'KV_CORRUPTION',
  'KV_IO',
  'KV_DISK_FULL',
  'KV_INDEX_FULL',
  'KV_CONFLICT',
  'KV_SNAPSHOT_RELEASED',
  'KV_EXISTS',
  'KV_INTERNAL',
] as const;

/** A stable error code (see the README's error table). */
export type KvErrorCode = (typeof ERROR_CODES)[number];

/**
 * The one error class kvd throws. Any thread may construct or catch it.
 * `code` is stable across versions; `message` is for humans and may change.
 */
export class KvError extends Error {
  /** Always `'KvError'`, so logs and `String(error)` name the class. */
  override readonly name = 'KvError';
  /** Which failure this is (one of `ERROR_CODES`); stable across versions, unlike `message`. */
  readonly code: KvErrorCode;
  /** For damage (`KV_CORRUPTION`) found in a known place: the file's name. */
  declare readonly file?: string;
  /** For damage found in a known place: the byte offset in `file`. */
  declare readonly offset?: number;

  constructor(code: KvErrorCode, message: string, options?: KvErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options?.file !== undefined) this.file = options.file;
    if (options?.offset !== undefined) this.offset = options.offset;
  }
}

/** Optional parts of a `KvError`: its cause, and where damage lies. */
export interface KvErrorOptions {
  /** The error this one wraps. */
  readonly cause?: unknown;
  /** The damaged file's name (`KvError.file`). */
  readonly file?: string;
  /** The damaged bytes' offset in it (`KvError.offset`). */
  readonly offset?: number;
}

/** The plain-object form of a `KvError` that crosses a thread boundary. */
export interface SerializedError {
  /** The error's code, as `KvError.code`. */
  readonly code: KvErrorCode;
  /** The error's human-readable message, as `KvError.message`. */
  readonly message: string;
  /** As `KvError.file`. */
  readonly file?: string;
  /** As `KvError.offset`. */
  readonly offset?: number;
}

/** Turns any thrown value into a `SerializedError`; non-kvd errors become `KV_INTERNAL`, I/O errors `KV_IO`. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof KvError) {
    const { code, message, file, offset } = error;
    return {
      code,
      message,
      ...(file === undefined ? {} : { file }),
      ...(offset === undefined ? {} : { offset }),
    };
  }
  return { code: classifyNativeError(error), message: errorMessage(error) };
}

/** Rebuilds a `KvError` on the receiving thread. */
export function deserializeError(error: SerializedError): KvError {
  return new KvError(error.code, error.message, { file: error.file, offset: error.offset });
}

/** Wraps a Node.js system error from the file system in a `KvError` naming what was being done. */
export function ioError(action: string, error: unknown): KvError {
  if (error instanceof KvError) return error;
  return new KvError(classifyNativeError(error), `${action}: ${errorMessage(error)}`, {
    cause: error,
  });
}

function classifyNativeError(error: unknown): KvErrorCode {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') return 'KV_DISK_FULL';
  if (typeof code === 'string' && code.startsWith('E')) return 'KV_IO';
  return 'KV_INTERNAL';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
