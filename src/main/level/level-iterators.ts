// Owns KvdLevel's three iterator kinds (entries, keys, values), as abstract-level requires them
// to be separate classes: each hands its calls to one LevelCursor and shapes what it reads
// (keys and values in the formats the iterator was opened with).

import { Buffer } from 'node:buffer';
import {
  AbstractIterator,
  AbstractKeyIterator,
  type AbstractSnapshot,
  AbstractValueIterator,
} from 'abstract-level';
import type { RangeEntry } from '../index.js';
import type { LevelCursor } from './level-cursor.js';
import { asFormat, type LevelData } from './level-format.js';
import type { LevelRangeOptions } from './level-range.js';

/** The options abstract-level passes `_iterator`, `_keys` and `_values` (already encoded). */
export interface LevelIteratorOptions extends LevelRangeOptions {
  /** False: entries carry no key. */
  readonly keys?: boolean;
  /** False: entries carry no value (and none is read). */
  readonly values?: boolean;
  /** The format keys are returned in. */
  readonly keyEncoding: string;
  /** The format values are returned in. */
  readonly valueEncoding: string;
  /** The explicit snapshot to read from, if any. */
  readonly snapshot?: AbstractSnapshot;
}

/** An entry as `_next` returns it: key and value in their formats (undefined if not asked). */
type LevelEntry = [LevelData | undefined, LevelData | undefined];

/** A KvdLevel iterator of entries (`db.iterator()`); `TDatabase` is the database's type. */
export class KvdLevelIterator<TDatabase> extends AbstractIterator<TDatabase, LevelData, LevelData> {
  private readonly withKeys: boolean;
  private readonly withValues: boolean;
  private readonly keyFormat: string;
  private readonly valueFormat: string;

  /** @internal Created by `KvdLevel`'s `_iterator`. */
  constructor(
    db: TDatabase,
    options: LevelIteratorOptions,
    private readonly cursor: LevelCursor,
  ) {
    super(db, options);
    this.withKeys = options.keys !== false;
    this.withValues = options.values !== false;
    this.keyFormat = options.keyEncoding;
    this.valueFormat = options.valueEncoding;
  }

  /** @internal */
  async _next(): Promise<LevelEntry | undefined> {
    const entry = this.cursor.next();
    return entry === undefined ? undefined : this.shape(entry);
  }

  /** @internal */
  async _nextv(size: number): Promise<LevelEntry[]> {
    return this.cursor.nextv(size).map((entry) => this.shape(entry));
  }

  /** @internal */
  async _all(): Promise<LevelEntry[]> {
    return (await this.cursor.all()).map((entry) => this.shape(entry));
  }

  /** @internal */
  _seek(target: LevelData): void {
    this.cursor.seek(target);
  }

  /** @internal */
  async _close(): Promise<void> {
    this.cursor.close();
  }

  private shape(entry: RangeEntry): LevelEntry {
    return [
      this.withKeys ? asFormat(entry.key, this.keyFormat) : undefined,
      this.withValues && entry.value !== undefined
        ? asFormat(entry.value, this.valueFormat)
        : undefined,
    ];
  }
}

/** A KvdLevel iterator of keys (`db.keys()`): a keys-only walk, no value is read. */
export class KvdLevelKeyIterator<TDatabase> extends AbstractKeyIterator<TDatabase, LevelData> {
  private readonly keyFormat: string;

  /** @internal Created by `KvdLevel`'s `_keys`. */
  constructor(
    db: TDatabase,
    options: LevelIteratorOptions,
    private readonly cursor: LevelCursor,
  ) {
    super(db, options);
    this.keyFormat = options.keyEncoding;
  }

  /** @internal */
  async _next(): Promise<LevelData | undefined> {
    const entry = this.cursor.next();
    return entry === undefined ? undefined : asFormat(entry.key, this.keyFormat);
  }

  /** @internal */
  async _nextv(size: number): Promise<LevelData[]> {
    return this.cursor.nextv(size).map((entry) => asFormat(entry.key, this.keyFormat));
  }

  /** @internal */
  async _all(): Promise<LevelData[]> {
    return (await this.cursor.all()).map((entry) => asFormat(entry.key, this.keyFormat));
  }

  /** @internal */
  _seek(target: LevelData): void {
    this.cursor.seek(target);
  }

  /** @internal */
  async _close(): Promise<void> {
    this.cursor.close();
  }
}

/** A KvdLevel iterator of values (`db.values()`). */
export class KvdLevelValueIterator<TDatabase> extends AbstractValueIterator<
  TDatabase,
  LevelData,
  LevelData
> {
  private readonly valueFormat: string;

  /** @internal Created by `KvdLevel`'s `_values`. */
  constructor(
    db: TDatabase,
    options: LevelIteratorOptions,
    private readonly cursor: LevelCursor,
  ) {
    super(db, options);
    this.valueFormat = options.valueEncoding;
  }

  /** @internal */
  async _next(): Promise<LevelData | undefined> {
    const entry = this.cursor.next();
    return entry === undefined ? undefined : this.value(entry);
  }

  /** @internal */
  async _nextv(size: number): Promise<LevelData[]> {
    return this.cursor.nextv(size).map((entry) => this.value(entry));
  }

  /** @internal */
  async _all(): Promise<LevelData[]> {
    return (await this.cursor.all()).map((entry) => this.value(entry));
  }

  /** @internal */
  _seek(target: LevelData): void {
    this.cursor.seek(target);
  }

  /** @internal */
  async _close(): Promise<void> {
    this.cursor.close();
  }

  private value(entry: RangeEntry): LevelData {
    return asFormat(entry.value ?? Buffer.alloc(0), this.valueFormat);
  }
}
