// The one definition of a sorted segment's index block (FORMAT.md, "Index block"): one fence
// post per data block, in file order, each a key at or after the block's last key and before
// the next block's first, with the block's stored size; offsets follow from the sizes.

import { ByteBuilder } from './byte-builder.js';
import { compareKeys, sharedPrefixLength } from './key-order.js';
import { BLOCK_TRAILER_BYTES, type BlockHandle, SortedDecodeFailure } from './sorted-format.js';
import { readVarint32, type VarintCursor } from './varint.js';

/** Collects the fence posts of a segment's data blocks in file order and encodes them. */
export class IndexBlockBuilder {
  private readonly out = new ByteBuilder();
  private previous: Uint8Array = new Uint8Array(0);

  /** Adds the next data block: its fence post (copied) and its stored payload size. */
  add(fence: Uint8Array, size: number): void {
    const shared = sharedPrefixLength(this.previous, fence);
    this.out.varint(shared);
    this.out.varint(fence.length - shared);
    this.out.varint(size);
    this.out.bytes(fence, shared);
    this.previous = fence.slice();
  }

  /** The raw index block: `shared unshared size suffix` per data block. A view; owned by the builder. */
  finish(): Uint8Array {
    return this.out.view();
  }
}

/** The decoded index: fence posts and handles of the data blocks, in file (and key) order. */
export interface BlockIndex {
  readonly fences: readonly Uint8Array[];
  readonly handles: readonly BlockHandle[];
}

/**
 * Decodes and checks the raw index block (stored at file offset `offset`) of a file whose data
 * blocks fill `[0, dataEnd)`: varints whole, fence posts strictly increasing, and the blocks'
 * sizes adding up to `dataEnd` exactly.
 */
export function decodeIndex(
  raw: Uint8Array,
  offset: number,
  dataEnd: number,
): BlockIndex | SortedDecodeFailure {
  const fences: Uint8Array[] = [];
  const handles: BlockHandle[] = [];
  const at: VarintCursor = { pos: 0 };
  let previous = new Uint8Array(0);
  let blockOffset = 0;
  while (at.pos < raw.length) {
    const shared = readVarint32(raw, at, raw.length);
    const unshared = readVarint32(raw, at, raw.length);
    const size = readVarint32(raw, at, raw.length);
    if (typeof shared === 'string' || typeof unshared === 'string' || typeof size === 'string') {
      return new SortedDecodeFailure('bad-varint', offset, 'index');
    }
    if (shared > previous.length || at.pos + unshared > raw.length) {
      return new SortedDecodeFailure('bad-index', offset, 'index');
    }
    const fence = new Uint8Array(shared + unshared);
    fence.set(previous.subarray(0, shared));
    fence.set(raw.subarray(at.pos, at.pos + unshared), shared);
    at.pos += unshared;
    if (fences.length > 0 && compareKeys(fence, previous) <= 0) {
      return new SortedDecodeFailure('out-of-order', offset, 'index');
    }
    fences.push(fence);
    handles.push({ offset: blockOffset, size });
    blockOffset += size + BLOCK_TRAILER_BYTES;
    previous = fence;
  }
  if (blockOffset !== dataEnd) return new SortedDecodeFailure('bad-index', offset, 'index');
  return { fences, handles };
}

/**
 * The first data block whose fence post is `key` or after it: the only block that can hold
 * `key`. Returns `index.fences.length` if `key` sorts after every fence post.
 */
export function findBlock(index: BlockIndex, key: Uint8Array): number {
  let lo = 0;
  let hi = index.fences.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(index.fences[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
