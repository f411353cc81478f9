// Owns repairing one data segment (`NNNNNN.sst`, merge output) for `repair: true`: checks it
// whole (footer, index, filter, properties, every data block and entry, every compressed value
// decompressed); if anything fails, keeps every point entry whose own checksum holds and whose
// value decodes (each carries a checksum: FORMAT.md, "Data segment"), found by scanning the
// data blocks it can still locate, or the whole file when its footer or index cannot be read;
// saves the damaged bytes aside; and rewrites the file from what it kept, under the same id and
// log-segment range. Writer thread only (repair.ts calls it).

import { join } from 'node:path';
import { ioError, KvError } from '../shared/errors.js';
import { TYPE_DELETE, TYPE_PUT } from '../shared/format.js';
import { compareKeys } from '../shared/key-order.js';
import { keysFileName } from '../shared/key-run-format.js';
import type { Logger } from '../shared/logger.js';
import type { RepairedRange } from '../shared/messages.js';
import {
  decodePointEntry,
  PointEntryFields,
  pointEntryChecksumOk,
} from '../shared/point-entry-format.js';
import { decompressValue } from '../shared/point-value.js';
import { sortedSegmentFileName } from '../shared/segment-header-format.js';
import { reportedKeyText } from '../shared/segment-scan.js';
import { parseDataBlock } from '../shared/sorted-block.js';
import {
  BLOCK_TRAILER_BYTES,
  decodeFooter,
  FOOTER_BYTES,
  isSortedFailure,
  type SortedEntry,
  type SortedFooter,
} from '../shared/sorted-format.js';
import { openSortedSegment, type SortedSegmentReader } from '../shared/sorted-segment-reader.js';
import { SortedSegmentWriter } from '../shared/sorted-segment-writer.js';
import { removeFilesDurably, writeFileDurably } from './durable-file.js';
import type { FileSystem } from './file-system.js';
import { saveAside } from './set-aside.js';

/** Longest key a damage report names (a longer length in a damaged entry is noise). */
const MAX_REPORTED_KEY_BYTES = 1024;

/** What repairing one data segment did. */
export interface SortedRepairOutcome {
  /** Whether the file was rewritten or set aside (false: it was whole). */
  readonly repaired: boolean;
  /** Entries kept in the rewritten file. */
  readonly records: number;
  readonly damaged: RepairedRange[];
  /** Files set aside whole. */
  readonly setAside: string[];
}

/**
 * Checks data segment `id` of `dir` and repairs it if it is damaged (see the header comment).
 * Throws `KV_IO` if it cannot be read or the repaired file cannot be written.
 */
export function repairSortedSegment(
  files: FileSystem,
  dir: string,
  id: number,
  log: Logger,
): SortedRepairOutcome {
  const name = sortedSegmentFileName(id);
  const path = join(dir, name);
  let bytes: Buffer;
  try {
    bytes = files.readFile(path);
  } catch (error) {
    throw ioError(`repair: cannot read ${name}`, error);
  }
  const reader = openSortedSegment(bytes);
  if (!isSortedFailure(reader)) {
    const { bad, countsAgree } = badBlocks(reader, bytes.length);
    // Whole blocks whose entries add up to the properties: nothing to repair. (Whole blocks
    // that do not add up are rewritten, losing nothing.)
    if (bad.length === 0 && countsAgree) {
      return { repaired: false, records: 0, damaged: [], setAside: [] };
    }
    const salvage = new Salvage(bytes);
    const damaged: RepairedRange[] = [];
    for (let i = 0; i < reader.blockCount; i++) {
      const h = reader.blockHandle(i);
      const end = Math.max(
        h.offset,
        Math.min(bytes.length, h.offset + h.size + BLOCK_TRAILER_BYTES),
      );
      const lost = salvage.scan(
        h.offset,
        entriesEnd(bytes, h.offset, Math.min(end, h.offset + h.size)),
      );
      if (!bad.includes(i)) continue;
      const savedTo = saveAside(
        files,
        `${path}.damaged-${h.offset}`,
        bytes.subarray(h.offset, end),
      );
      damaged.push({
        file: name,
        offset: h.offset,
        bytes: end - h.offset,
        savedTo,
        lostKeys: lost,
        reason:
          'data block fails its checksum or structure, or holds a value that does not decompress; its entries with intact checksums and values were kept',
      });
    }
    const p = reader.properties;
    rewrite(files, dir, name, id, reader.footer, Math.max(p.logSeq ?? 0, p.maxSeq), salvage);
    for (const d of damaged) log.warn(d, 'repair: saved a damaged block aside');
    return { repaired: true, records: salvage.entries.length, damaged, setAside: [] };
  }
  // The footer, index, filter or properties cannot be trusted: find the entries by scanning.
  const own = readFooter(bytes);
  const footer = own ?? readKeyRunFooter(files, dir, id);
  const salvage = new Salvage(bytes);
  salvage.scan(0, own && own.index.offset <= bytes.length ? own.index.offset : bytes.length);
  const aside = saveAside(files, `${path}.damaged`, bytes);
  const range: RepairedRange = {
    file: name,
    offset: reader.offset,
    bytes: bytes.length - reader.offset,
    savedTo: aside,
    lostKeys: footer ? salvage.undecodable : salvage.entries.map((e) => reportedKeyText(e.key)),
    reason: footer
      ? `its ${reader.region} cannot be read (${reader.reason}); the whole file was set aside and rewritten from the ${salvage.entries.length} entries whose checksums hold and whose values decode`
      : `its ${reader.region} cannot be read (${reader.reason}), nor can the footer that names its range of log segments; the whole file was set aside`,
  };
  log.warn(range, 'repair: set aside a data segment');
  if (!footer) {
    removeFilesDurably(files, dir, [name, keysFileName(id)]);
    return { repaired: true, records: 0, damaged: [range], setAside: [aside] };
  }
  const maxSeq = salvage.entries.reduce((m, e) => Math.max(m, e.seq), 0);
  rewrite(files, dir, name, id, footer, maxSeq, salvage);
  return { repaired: true, records: salvage.entries.length, damaged: [range], setAside: [] };
}

/**
 * Indexes of the data blocks that fail (checksum, structure, bounds), and whether the entries
 * of the whole blocks add up to the properties' count.
 */
function badBlocks(
  reader: SortedSegmentReader,
  size: number,
): { bad: number[]; countsAgree: boolean } {
  const bad: number[] = [];
  let entries = 0;
  for (let i = 0; i < reader.blockCount; i++) {
    const h = reader.blockHandle(i);
    const cursor =
      h.offset + h.size + BLOCK_TRAILER_BYTES > size ? undefined : reader.blockCursor(i);
    if (!cursor || isSortedFailure(cursor)) {
      bad.push(i);
      continue;
    }
    while (cursor.more) {
      // A compressed value whose checksum holds but which does not decode is damage too.
      if (cursor.next() || (cursor.compressed && isSortedFailure(cursor.entry()))) {
        bad.push(i);
        break;
      }
      entries++;
    }
  }
  return { bad, countsAgree: entries === reader.properties.entries };
}

/** Entries with intact checksums found so far, in file order. */
class Salvage {
  readonly entries: SortedEntry[] = [];
  /** Keys of entries whose checksum holds but whose compressed value does not decode. */
  readonly undecodable: string[] = [];
  private readonly fields = new PointEntryFields();

  constructor(private readonly bytes: Uint8Array) {}

  /**
   * Keeps every entry in `[from, to)` whose checksum holds and whose value decodes, stepping a
   * byte at a time past bytes that hold none. Returns the keys that damaged entries there
   * still name.
   */
  scan(from: number, to: number): string[] {
    const named: string[] = [];
    let pos = from;
    let gapNamed = false;
    while (pos < to) {
      const f = this.fields;
      if (decodePointEntry(this.bytes, pos, to, f) && f.keyLength > 0) {
        if (pointEntryChecksumOk(this.bytes, pos, f.end - pos)) {
          if (f.compressed && !this.decodes(f)) {
            const lost = `${this.keyText(f)} (its value does not decompress)`;
            named.push(lost);
            this.undecodable.push(lost);
          } else {
            this.keep(f);
          }
          pos = f.end;
          gapNamed = false;
          continue;
        }
        if (!gapNamed && f.keyLength <= MAX_REPORTED_KEY_BYTES) {
          named.push(`${this.keyText(f)} (as the damaged entry reads)`);
          gapNamed = true;
        }
      }
      pos++;
    }
    return named;
  }

  private keyText(f: PointEntryFields): string {
    return reportedKeyText(this.bytes.subarray(f.keyStart, f.keyStart + f.keyLength));
  }

  /** Whether a compressed value decodes (a missing codec's package throws, as on reads). */
  private decodes(f: PointEntryFields): boolean {
    try {
      decompressValue(this.bytes, f.valueStart, f.valueLength);
      return true;
    } catch (error) {
      if (error instanceof KvError && error.code === 'KV_CORRUPTION') return false;
      throw error;
    }
  }

  private keep(f: PointEntryFields): void {
    const key = this.bytes.slice(f.keyStart, f.keyStart + f.keyLength);
    const last = this.entries.at(-1);
    // Out of order (the scan's own false find, or a block written twice): keep the first.
    if (last && compareKeys(last.key, key) >= 0) return;
    this.entries.push({
      key,
      type: f.type === TYPE_DELETE ? TYPE_DELETE : TYPE_PUT,
      // A compressed value is kept as it is stored (its entry's checksum held).
      value: this.bytes.slice(f.valueStart, f.valueStart + f.valueLength),
      seq: f.seq,
      expiresAt: f.expiresAt,
      compressedValue: f.compressed,
    });
  }
}

/**
 * Where the entries of the block in `bytes[offset, end)` end: before its tail of restart
 * offsets where that tail parses (so its bytes are not scanned as entries), else at `end`.
 */
function entriesEnd(bytes: Uint8Array, offset: number, end: number): number {
  const block = parseDataBlock(bytes.subarray(offset, end), offset, true);
  return isSortedFailure(block) ? end : offset + block.entriesEnd;
}

/** The file's own footer, if it reads. */
function readFooter(bytes: Uint8Array): SortedFooter | undefined {
  if (bytes.length < FOOTER_BYTES) return undefined;
  const footer = decodeFooter(bytes.subarray(bytes.length - FOOTER_BYTES), bytes.length);
  return isSortedFailure(footer) ? undefined : footer;
}

/** The key run's footer (same id and range of log segments), if it exists and reads. */
function readKeyRunFooter(files: FileSystem, dir: string, id: number): SortedFooter | undefined {
  try {
    return readFooter(files.readFile(join(dir, keysFileName(id))));
  } catch {
    return undefined;
  }
}

/** Rewrites data segment `name` from the salvaged entries; its key run is rebuilt at open. */
function rewrite(
  files: FileSystem,
  dir: string,
  name: string,
  id: number,
  footer: Pick<SortedFooter, 'first' | 'last'>,
  logSeq: number,
  salvage: Salvage,
): void {
  const writer = new SortedSegmentWriter({
    segmentId: id,
    first: footer.first,
    last: footer.last,
    pointEntries: true,
    logSeq,
  });
  const chunks: Uint8Array[] = [];
  for (const entry of salvage.entries) {
    const chunk = writer.add(entry);
    if (chunk) chunks.push(chunk);
  }
  chunks.push(writer.finish());
  writeFileDurably(files, dir, name, 'repair-written', ...chunks);
  removeFilesDurably(files, dir, [keysFileName(id)]);
}
