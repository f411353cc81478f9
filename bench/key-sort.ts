// What sorting a segment's keys costs the compaction worker (issue 12): a hint job sorts the
// keys of each sealed 64 MiB segment for its key run, and a merge sorts its records by key.
// Times the comparator sort kvd used (`Array.prototype.sort` with `compareKeys`) against
// `sortKeyOrder` (src/shared/key-sort.ts) on the keys of one such segment: 453,437 keys, the
// count a 64 MiB segment of redis-benchmark's `-d 100` SETs holds, in two shapes: the keys
// redis-benchmark writes (`key:` and 12 digits, drawn from 1M) and application-like keys of
// varied length sharing prefixes (`user:<id>:<field>`). Not a timing scenario of kvd: it
// prints a table and JSON.
// Run: tsc -p tsconfig.bench.json && node --expose-gc dist-bench/bench/key-sort.js

import { Bench } from 'tinybench';
import { compareKeys } from '../src/shared/key-order.js';
import { type KeyColumns, sortKeyOrder } from '../src/shared/key-sort.js';
import { renderTable } from './lib/table.js';

const KEYS = 453_437;
const FIELDS = ['name', 'email', 'session', 'cart', 'last-seen'];

/** A deterministic stream of numbers in [0, 1) (xorshift), so every run sorts the same keys. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** `count` keys made by `make`, as columns of one buffer and as views of it. */
function keySet(make: (next: () => number) => string): {
  columns: KeyColumns;
  views: Uint8Array[];
} {
  const next = random(12345);
  const strings = Array.from({ length: KEYS }, () => make(next));
  const bytes = Buffer.from(strings.join(''), 'latin1');
  const starts = new Float64Array(KEYS);
  const lengths = new Uint32Array(KEYS);
  const views: Uint8Array[] = [];
  let at = 0;
  strings.forEach((s, i) => {
    starts[i] = at;
    lengths[i] = s.length;
    views.push(bytes.subarray(at, at + s.length));
    at += s.length;
  });
  return { columns: { bytes, starts, lengths }, views };
}

const shapes = {
  'redis-benchmark keys': keySet(
    (next) => `key:${String(Math.floor(next() * 1_000_000)).padStart(12, '0')}`,
  ),
  'user:<id>:<field>': keySet(
    (next) => `user:${Math.floor(next() * 200_000)}:${FIELDS[Math.floor(next() * FIELDS.length)]}`,
  ),
};

const bench = new Bench({
  iterations: 8,
  time: 0,
  warmupIterations: 2,
  timestampProvider: 'hrtimeNow',
  throws: true,
  setup: () => (globalThis as { gc?: () => void }).gc?.(),
});
for (const [shape, keys] of Object.entries(shapes)) {
  bench.add(`${shape}: comparator sort`, () => {
    keys.views.slice().sort(compareKeys);
  });
  bench.add(`${shape}: sortKeyOrder`, () => {
    sortKeyOrder(keys.columns, KEYS);
  });
}
bench.runSync();

const medians: Record<string, number> = {};
for (const task of bench.tasks) {
  const result = task.result;
  if (!result || !('latency' in result)) throw new Error(`${task.name}: no result`);
  medians[task.name] = result.latency.p50;
}
const rows = Object.keys(shapes).map((shape) => {
  const before = medians[`${shape}: comparator sort`]!;
  const after = medians[`${shape}: sortKeyOrder`]!;
  return [
    shape,
    `${before.toFixed(0)} ms`,
    `${after.toFixed(0)} ms`,
    `${(before / after).toFixed(1)}×`,
  ];
});
console.log(renderTable(['keys (453,437)', 'comparator sort', 'sortKeyOrder', 'faster'], rows));
console.log(JSON.stringify({ keys: KEYS, medianMs: medians }));
