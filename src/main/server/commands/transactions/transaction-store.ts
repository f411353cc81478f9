// Owns the store a queued command's handler talks to inside EXEC: the `CommandStore` methods
// over a `TransactionView`, with the Store's semantics and errors (set, setWith, incrBy, append,
// getDelete, expire, persist, batch with ifVersions, …), so a handler runs unchanged and its
// writes stay in the transaction. Methods that need the whole keyspace refuse.

import { Buffer } from 'node:buffer';
import {
  type BatchOp,
  type BatchOptions,
  type Bytes,
  type CompactionResult,
  type Entry,
  type ExpireCondition,
  KvError,
  parseInteger,
  type RangeKeyValue,
  type SetOptions,
  type SetWithOptions,
  type SetWithResult,
  type StoreStats,
} from '../../../index.js';
import type { CommandStore } from '../../command-context.js';
import type { TransactionView } from './transaction-view.js';

/** The store's size limits, which the transaction checks as the Store would. */
export interface TransactionLimits {
  readonly maxKeyBytes: number;
  readonly maxValueBytes: number;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * `CommandStore` for the handlers EXEC runs: every keyed read and write goes to the view, so it
 * sees the transaction's earlier writes and stays out of the store until the commit. Main
 * thread. `keys`, `range`, `clear`, `stats`, `randomKey`, `compact`, `checkpoint`,
 * `setDurability`, `sequence` and `batch`'s `ifAbsentSince` throw `KV_INVALID_ARGUMENT` (no
 * command that could be queued uses them: see transactional-forms.ts; WATCH cannot be queued).
 */
export class TransactionStore implements CommandStore {
  constructor(
    private readonly view: TransactionView,
    private readonly limits: TransactionLimits,
    readonly dir: string,
  ) {}

  async get(key: Bytes): Promise<Buffer | undefined> {
    return this.getSync(key);
  }

  getSync(key: Bytes): Buffer | undefined {
    return this.read(key)?.value;
  }

  async getMany(keys: readonly Bytes[]): Promise<(Buffer | undefined)[]> {
    return keys.map((key) => this.getSync(key));
  }

  async has(key: Bytes): Promise<boolean> {
    return this.read(key) !== undefined;
  }

  entrySync(key: Bytes): Entry | undefined {
    return this.read(key);
  }

  version(key: Bytes): number | undefined {
    return this.read(key)?.version;
  }

  expirySync(key: Bytes): number | undefined {
    return this.read(key)?.expiresAt;
  }

  async set(key: Bytes, value: Bytes, options?: SetOptions): Promise<void> {
    const at = options?.expiresAt ?? 0;
    checkExpiry(at);
    this.view.write(this.checkKey(key), this.checkValue(value), at);
  }

  async delete(key: Bytes): Promise<boolean> {
    const k = this.checkKey(key);
    const existed = this.view.read(k) !== undefined;
    this.view.remove(k);
    return existed;
  }

  async batch(ops: readonly BatchOp[], options?: BatchOptions): Promise<void> {
    if (options?.ifAbsentSince !== undefined) return refuse('batch with ifAbsentSince');
    for (const [key, version] of options?.ifVersions ?? []) {
      if (this.read(key)?.version !== version) {
        throw new KvError('KV_CONFLICT', 'a key changed since its version was read');
      }
    }
    // Every operation is checked before any is applied: all or none, as Store.batch.
    const checked = ops.map((op) => {
      if (op.type === 'set') {
        checkExpiry(op.expiresAt ?? 0);
        return { key: this.checkKey(op.key), value: this.checkValue(op.value), op };
      }
      if (op.type === 'delete') return { key: this.checkKey(op.key), value: undefined, op };
      throw new KvError('KV_INVALID_ARGUMENT', 'unknown batch operation type');
    });
    for (const { key, value, op } of checked) {
      if (value === undefined) this.view.remove(key);
      else this.view.write(key, value, op.type === 'set' ? (op.expiresAt ?? 0) : 0);
    }
  }

  async incrBy(key: Bytes, delta: number | bigint = 1): Promise<bigint> {
    if (typeof delta === 'number' ? !Number.isSafeInteger(delta) : typeof delta !== 'bigint') {
      throw new KvError('KV_INVALID_ARGUMENT', 'delta must be an integer');
    }
    const k = this.checkKey(key);
    const current = this.view.read(k);
    const step = BigInt(delta);
    const base = current ? parseInteger(current.value) : 0n;
    if (base === undefined || step < INT64_MIN || step > INT64_MAX) {
      throw new KvError('KV_NOT_INTEGER', 'value is not an integer or out of range');
    }
    const next = base + step;
    if (next < INT64_MIN || next > INT64_MAX) {
      throw new KvError('KV_NOT_INTEGER', 'increment or decrement would overflow');
    }
    this.view.write(k, Buffer.from(next.toString(), 'latin1'), current?.expiresAt ?? 0);
    return next;
  }

  async append(key: Bytes, value: Bytes): Promise<number> {
    const k = this.checkKey(key);
    const tail = this.checkValue(value);
    const current = this.view.read(k);
    const length = (current?.value.length ?? 0) + tail.length;
    if (length > this.limits.maxValueBytes) {
      throw new KvError(
        'KV_VALUE_TOO_LARGE',
        `appending would make a value of ${length} bytes (maxValueBytes ${this.limits.maxValueBytes})`,
      );
    }
    const joined = current ? Buffer.concat([current.value, tail], length) : Buffer.from(tail);
    this.view.write(k, joined, current?.expiresAt ?? 0);
    return length;
  }

  async setWith(key: Bytes, value: Bytes, options: SetWithOptions = {}): Promise<SetWithResult> {
    const at = options.expiresAt ?? 0;
    checkExpiry(at);
    const k = this.checkKey(key);
    const v = this.checkValue(value);
    const current = this.view.read(k);
    const previous = options.returnPrevious ? current?.value : undefined;
    if ((options.ifAbsent && current) || (options.ifPresent && !current)) {
      return { written: false, previous };
    }
    this.view.write(k, v, options.keepExpiry ? (current?.expiresAt ?? 0) : at);
    return { written: true, previous };
  }

  async getDelete(key: Bytes): Promise<Buffer | undefined> {
    const k = this.checkKey(key);
    const current = this.view.read(k);
    if (current) this.view.remove(k);
    return current?.value;
  }

  async expire(
    key: Bytes,
    expiresAt: number,
    condition?: ExpireCondition | readonly ExpireCondition[],
  ): Promise<boolean> {
    if (!Number.isSafeInteger(expiresAt) || expiresAt <= 0) {
      throw new KvError(
        'KV_INVALID_ARGUMENT',
        'expiresAt must be a positive integer (ms since the epoch)',
      );
    }
    const conditions = expireConditions(condition);
    const k = this.checkKey(key);
    const current = this.view.read(k);
    if (!current || !expiryConditionHolds(conditions, current.expiresAt, expiresAt)) return false;
    // A time already past deletes the key, as Redis does.
    if (expiresAt <= this.view.now) this.view.remove(k);
    else this.view.write(k, current.value, expiresAt);
    return true;
  }

  async persist(key: Bytes): Promise<boolean> {
    const k = this.checkKey(key);
    const current = this.view.read(k);
    if (!current || current.expiresAt === 0) return false;
    this.view.write(k, current.value, 0);
    return true;
  }

  keys(): Promise<Buffer[]> {
    return refuse('keys()');
  }

  range(): AsyncGenerator<RangeKeyValue> {
    throw new KvError('KV_INVALID_ARGUMENT', 'range() cannot run inside a transaction');
  }

  sequence(): number {
    throw new KvError('KV_INVALID_ARGUMENT', 'sequence() cannot run inside a transaction');
  }

  clear(): Promise<number> {
    return refuse('clear()');
  }

  stats(): Promise<StoreStats> {
    return refuse('stats()');
  }

  randomKey(): Promise<Buffer | undefined> {
    return refuse('randomKey()');
  }

  compact(): Promise<CompactionResult> {
    return refuse('compact()');
  }

  checkpoint(): Promise<number> {
    return refuse('checkpoint()');
  }

  setDurability(): Promise<void> {
    return refuse('setDurability()');
  }

  private read(key: Bytes): Entry | undefined {
    return this.view.read(this.checkKey(key));
  }

  /** The key as a Buffer; throws `KV_KEY_TOO_LARGE` past maxKeyBytes, as the Store does. */
  private checkKey(key: Bytes): Buffer {
    const k = toBuffer(key, 'a key');
    if (k.length > this.limits.maxKeyBytes) {
      throw new KvError(
        'KV_KEY_TOO_LARGE',
        `key of ${k.length} bytes exceeds maxKeyBytes (${this.limits.maxKeyBytes})`,
      );
    }
    return k;
  }

  /** The value as a Buffer; throws `KV_VALUE_TOO_LARGE` past maxValueBytes, as the Store does. */
  private checkValue(value: Bytes): Buffer {
    const v = toBuffer(value, 'a value');
    if (v.length > this.limits.maxValueBytes) {
      throw new KvError(
        'KV_VALUE_TOO_LARGE',
        `value of ${v.length} bytes exceeds maxValueBytes (${this.limits.maxValueBytes})`,
      );
    }
    return v;
  }
}

function toBuffer(bytes: Bytes, what: string): Buffer {
  if (typeof bytes === 'string') return Buffer.from(bytes, 'utf8');
  if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  throw new KvError('KV_INVALID_ARGUMENT', `${what} must be a string or a Uint8Array`);
}

function checkExpiry(expiresAt: number): void {
  if (!Number.isSafeInteger(expiresAt) || expiresAt < 0) {
    throw new KvError(
      'KV_INVALID_ARGUMENT',
      'expiresAt must be a non-negative integer (ms since the epoch)',
    );
  }
}

/** The conditions of `Store.expire`, refused as it refuses them (NX with another, GT with LT). */
function expireConditions(
  condition: ExpireCondition | readonly ExpireCondition[] | undefined,
): ReadonlySet<ExpireCondition> {
  const list: readonly ExpireCondition[] =
    condition === undefined ? [] : typeof condition === 'string' ? [condition] : condition;
  const conditions = new Set(list);
  for (const c of conditions) {
    if (c !== 'NX' && c !== 'XX' && c !== 'GT' && c !== 'LT') {
      throw new KvError('KV_INVALID_ARGUMENT', `unknown expire condition ${String(c)}`);
    }
  }
  if (conditions.has('NX') && conditions.size > 1) {
    throw new KvError('KV_INVALID_ARGUMENT', 'NX cannot be combined with XX, GT or LT');
  }
  if (conditions.has('GT') && conditions.has('LT')) {
    throw new KvError('KV_INVALID_ARGUMENT', 'GT and LT cannot be combined');
  }
  return conditions;
}

/** EXPIRE's NX/XX/GT/LT against the key's expiry (0: none, which counts as never expiring). */
function expiryConditionHolds(
  conditions: ReadonlySet<ExpireCondition>,
  current: number,
  next: number,
): boolean {
  if (conditions.has('NX') && current !== 0) return false;
  if (conditions.has('XX') && current === 0) return false;
  if (conditions.has('GT') && (current === 0 || next <= current)) return false;
  if (conditions.has('LT') && current !== 0 && next >= current) return false;
  return true;
}

function refuse(method: string): Promise<never> {
  return Promise.reject(
    new KvError('KV_INVALID_ARGUMENT', `${method} cannot run inside a transaction`),
  );
}
