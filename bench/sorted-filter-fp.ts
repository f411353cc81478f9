// The sorted-segment bloom filter's false-positive rate, measured (issue 10): for 1M keys of
// the benchmark's shape, at several bits per key, the share of 100,000 absent keys the filter
// calls "maybe", beside the theoretical rate. Prints a table and JSON. Not a timing scenario.
// Run: tsc -p tsconfig.bench.json && node dist-bench/bench/sorted-filter-fp.js [--keys N]

import { parseArgs } from 'node:util';
import { BloomFilterBuilder, decodeBloomFilter, probesFor } from '../src/shared/bloom-filter.js';
import { renderTable } from './lib/table.js';

const { values: flags } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    absent: { type: 'string', default: '100000' },
  },
});
const keys = Number(flags.keys);
const absent = Number(flags.absent);
const utf8 = new TextEncoder();
/** A 16-byte key like the benchmark's dataset A. */
const key = (i: number): Uint8Array => utf8.encode(`key:${String(i).padStart(12, '0')}`);

interface Row {
  readonly bitsPerKey: number;
  readonly probes: number;
  readonly filterBytes: number;
  readonly measuredFpRate: number;
  readonly theoreticalFpRate: number;
}

const rows: Row[] = [];
for (const bitsPerKey of [6, 8, 10, 12, 16]) {
  const builder = new BloomFilterBuilder(bitsPerKey);
  for (let i = 0; i < keys; i++) builder.add(key(i));
  const raw = builder.finish();
  const filter = decodeBloomFilter(raw)!;
  let positives = 0;
  for (let i = keys; i < keys + absent; i++) if (filter.mayContain(key(i))) positives++;
  const k = probesFor(bitsPerKey);
  rows.push({
    bitsPerKey,
    probes: k,
    filterBytes: raw.length,
    measuredFpRate: positives / absent,
    theoreticalFpRate: (1 - Math.exp((-k * keys) / filter.bits)) ** k,
  });
}

const pct = (x: number): string => `${(100 * x).toFixed(3)}%`;
console.log(`sorted-segment bloom filter, ${keys} keys, ${absent} absent keys probed`);
console.log(
  renderTable(
    ['bits/key', 'probes', 'filter bytes', 'measured FP', 'theory FP'],
    rows.map((r) => [
      String(r.bitsPerKey),
      String(r.probes),
      String(r.filterBytes),
      pct(r.measuredFpRate),
      pct(r.theoreticalFpRate),
    ]),
  ),
);
console.log(JSON.stringify({ scenario: 'sorted-filter-fp', keys, absent, rows }));
