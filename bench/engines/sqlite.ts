// Owns how the benchmarks drive SQLite (better-sqlite3): WAL, synchronous=NORMAL, one kv
// table (WITHOUT ROWID for small values, a rowid table for 4 KiB values, as SQLite advises),
// prepared statements, inserts in transactions of 10,000.

import Database from 'better-sqlite3';
import type { Dataset } from '../lib/dataset.js';

export type Sqlite = Database;

/** Rows per insert transaction. */
const ROWS_PER_TXN = 10_000;
/** SQLite suggests WITHOUT ROWID only for rows well under 1/20 of a page. */
const WITHOUT_ROWID_MAX_VALUE = 200;

/** Opens the database file; when writable, sets WAL and creates the table for `valueBytes`. */
export function openSqlite(file: string, valueBytes: number, readonly = false): Sqlite {
  const db = new Database(file, { readonly, fileMustExist: readonly });
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const rowid = valueBytes <= WITHOUT_ROWID_MAX_VALUE ? ' WITHOUT ROWID' : '';
    db.exec(`CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY NOT NULL, v BLOB NOT NULL)${rowid}`);
  }
  return db;
}

/** Loads with prepared INSERTs, 10,000 per transaction. */
export function loadSqlite(db: Sqlite, data: Dataset): void {
  const insert = db.prepare('INSERT INTO kv (k, v) VALUES (?, ?)');
  const keys = data.keys;
  const chunk = db.transaction((from: number, to: number) => {
    for (let n = from; n < to; n++) insert.run(keys[n]!, data.value(n));
  });
  for (let from = 0; from < data.count; from += ROWS_PER_TXN)
    chunk(from, Math.min(data.count, from + ROWS_PER_TXN));
}

/** A prepared point lookup: `get(key)` returns the value Buffer or undefined. */
export function selectValue(db: Sqlite): (key: string) => Buffer | undefined {
  const select = db.prepare('SELECT v FROM kv WHERE k = ?').pluck();
  return (key) => select.get(key) as Buffer | undefined;
}
