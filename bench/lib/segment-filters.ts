// Owns measuring the bloom filters of a kvd directory's data segments (`*.sst`, what compact()
// writes; FORMAT.md "Filter block"): each file's filter as the store wrote it, probed with keys
// known to be absent, against the rate theory gives for its size and probe count.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSortedFailure } from '../../src/shared/sorted-format.js';
import { openSortedSegment } from '../../src/shared/sorted-segment-reader.js';

const DATA_SEGMENT_FILE = /^\d{6,}\.sst$/;

/** What probing every data segment's filter found. */
export interface FilterMeasurement {
  readonly files: number;
  /** Keys the filters were built from (each file's entries). */
  readonly keys: number;
  readonly filterBytes: number;
  readonly probes: number;
  /** Probes a filter called "maybe" (each absent key against each file). */
  readonly positives: number;
  readonly measuredRate: number;
  /** (1 − e^(−k·n/m))^k per file, weighted by its probes. */
  readonly theoreticalRate: number;
  /** Hash probes a filter makes per key (k); the same for every file. */
  readonly hashProbes: number;
}

/**
 * Probes the filter of every data segment in `dir` with each of `absent` (keys the store does
 * not hold). Throws if a file does not open or its filter is unusable.
 */
export function measureSegmentFilters(
  dir: string,
  absent: readonly Uint8Array[],
): FilterMeasurement {
  let files = 0;
  let keys = 0;
  let filterBytes = 0;
  let positives = 0;
  let theory = 0;
  let hashProbes = 0;
  for (const name of readdirSync(dir).filter((n) => DATA_SEGMENT_FILE.test(n))) {
    const reader = openSortedSegment(readFileSync(join(dir, name)));
    if (isSortedFailure(reader)) throw new Error(`${name} does not open: ${reader.reason}`);
    const { filter } = reader;
    if (!filter.usable) throw new Error(`${name}'s filter is not usable`);
    const entries = reader.properties.entries;
    files++;
    keys += entries;
    filterBytes += reader.footer.filter.size;
    hashProbes = filter.probes;
    for (const key of absent) if (filter.mayContain(key)) positives++;
    theory += (1 - Math.exp((-filter.probes * entries) / filter.bits)) ** filter.probes;
  }
  if (files === 0) throw new Error(`${dir} holds no data segment`);
  const probes = absent.length * files;
  return {
    files,
    keys,
    filterBytes,
    probes,
    positives,
    measuredRate: positives / probes,
    theoreticalRate: theory / files,
    hashProbes,
  };
}
