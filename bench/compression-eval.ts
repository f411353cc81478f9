// Block compression evaluation (issue 10; ARCHITECTURE.md, "Block compression: choice"): ratio,
// compress and decompress speed, and per-block decompress latency of kvd's codecs and of other
// bindings on ~4 KiB sorted-segment data blocks of two datasets; prints a table and JSON. Not
// part of `npm run bench`. Each group of codecs runs in a child process of its own (one binding
// loaded, as in a kvd process); packages that are not kvd dependencies load from --candidates:
//
//   npm install --prefix /tmp/cmp-eval lz4-napi@2.10.0 zstd-napi@0.0.13 lz4-wasm-nodejs@0.9.2 \
//     lz4js@0.2.0 fzstd@0.1.1 @toondepauw/node-zstd@2.0.0   # zstd-napi's build script approved
//   tsc -p tsconfig.bench.json && node dist-bench/bench/compression-eval.js \
//     [--candidates /tmp/cmp-eval] [--rounds 5] [--time 100] [--blocks 256]

import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';
import { crc32c } from '../src/shared/crc32c.js';
import { jsonBlocks, sstBlocks } from './lib/block-datasets.js';
import { CODEC_GROUPS, type Codec } from './lib/compression-candidates.js';
import { median } from './lib/stats.js';
import { renderTable } from './lib/table.js';

const { values: flags } = parseArgs({
  options: {
    candidates: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    time: { type: 'string', default: '100' },
    blocks: { type: 'string', default: '256' },
    /** Internal: the group a child process measures. */
    group: { type: 'string' },
  },
});
const ROUNDS = Number(flags.rounds);
const TASK_MS = Number(flags.time);
const BLOCKS = Number(flags.blocks);
/** Blocks one timed iteration handles: enough to dwarf a clock read, few enough for µs samples. */
const BATCH = 8;

// --- Measurement ---

interface Row {
  readonly dataset: string;
  readonly codec: string;
  readonly source: string;
  /** Raw bytes ÷ stored bytes, a block that does not shrink counted raw. */
  readonly ratio: number;
  /** Blocks stored compressed (saving ≥ 1/8), of all. */
  readonly shrunk: number;
  readonly blocks: number;
  /** Medians over rounds (NaN when not measured). */
  readonly compressMBps: number;
  readonly decompressMBps: number;
  readonly decompressUs: number;
  /** Lowest and highest round's decompress µs. */
  readonly decompressUsRange: readonly [number, number];
}

interface Prepared {
  readonly codec: Codec;
  /** Each block's codec output, when there is one (kvd gives none for a block not worth storing). */
  readonly outputs: readonly { readonly raw: Uint8Array; readonly bytes: Uint8Array }[];
  readonly shrunk: number;
  /** Bytes on disk: the output where it is smaller than the raw block, else the raw block. */
  readonly storedBytes: number;
}

function prepare(codec: Codec, blocks: readonly Uint8Array[]): Prepared {
  const outputs: { raw: Uint8Array; bytes: Uint8Array }[] = [];
  let shrunk = 0;
  let storedBytes = 0;
  blocks.forEach((raw, i) => {
    const bytes = codec.compress(raw);
    // kvd's rule (block-compression.ts): stored compressed only when that saves 1/8 of the block.
    const smaller = bytes !== undefined && bytes.length < raw.length - (raw.length >>> 3);
    if (smaller) shrunk++;
    storedBytes += smaller ? bytes.length : raw.length;
    if (bytes === undefined) return;
    outputs.push({ raw, bytes });
    const back = codec.decompress(bytes, raw.length);
    if (Buffer.compare(back, raw) !== 0)
      throw new Error(`${codec.name}: block ${i} round trip differs`);
  });
  return { codec, outputs, shrunk, storedBytes };
}

/** Median µs per block of one timed iteration (BATCH blocks), from tinybench's p50. */
function perBlockUs(bench: Bench, name: string): number {
  const result = bench.getTask(name)?.result;
  if (!result || !('latency' in result)) throw new Error(`${name}: no result`);
  return (result.latency.p50 * 1000) / BATCH;
}

/** Median µs of CRC32C over one raw block, which every read of a block pays: for scale. */
const crcUs: number[] = [];

function evaluate(dataset: string, blocks: Uint8Array[], codecs: readonly Codec[]): Row[] {
  const rawBytes = blocks.reduce((sum, b) => sum + b.length, 0);
  const prepared = codecs.map((codec) => prepare(codec, blocks));
  const compressUs = new Map<string, number[]>();
  const decompressUs = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    // A collection before each task, so no task pays for garbage another left (run node with
    // --expose-gc); the order rotates by round, so no codec always follows the same one.
    const bench = new Bench({
      time: TASK_MS,
      warmupTime: 20,
      timestampProvider: 'hrtimeNow',
      throws: true,
      setup: () => (globalThis as { gc?: () => void }).gc?.(),
    });
    const order = [
      ...prepared.slice(round % prepared.length),
      ...prepared.slice(0, round % prepared.length),
    ];
    for (const { codec, outputs } of order) {
      const compress = codec.compress;
      if (codec.timeCompress) {
        let i = 0;
        bench.add(`c ${codec.name}`, () => {
          for (let k = 0; k < BATCH; k++) compress(blocks[i++ % blocks.length]!);
        });
      }
      if (outputs.length > 0) {
        let i = 0;
        bench.add(`d ${codec.name}`, () => {
          for (let k = 0; k < BATCH; k++) {
            const p = outputs[i++ % outputs.length]!;
            codec.decompress(p.bytes, p.raw.length);
          }
        });
      }
    }
    let c = 0;
    bench.add('crc32c', () => {
      for (let k = 0; k < BATCH; k++) crc32c(blocks[c++ % blocks.length]!);
    });
    bench.runSync();
    crcUs.push(perBlockUs(bench, 'crc32c'));
    for (const task of bench.tasks) {
      if (task.name === 'crc32c') continue;
      const into = task.name.startsWith('c ') ? compressUs : decompressUs;
      const list = into.get(task.name.slice(2)) ?? [];
      list.push(perBlockUs(bench, task.name));
      into.set(task.name.slice(2), list);
    }
  }
  const meanBlock = rawBytes / blocks.length;
  return prepared.map(({ codec, shrunk, storedBytes }) => {
    const d = decompressUs.get(codec.name) ?? [];
    return {
      dataset,
      codec: codec.name,
      source: codec.source,
      ratio: rawBytes / storedBytes,
      shrunk,
      blocks: blocks.length,
      compressMBps: meanBlock / median(compressUs.get(codec.name) ?? []),
      decompressMBps: meanBlock / median(d),
      decompressUs: median(d),
      decompressUsRange: [Math.min(...d), Math.max(...d)],
    };
  });
}

const fmt = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const DATASETS = [
  { name: 'a: key:NNNNNN + 100 B random', blocks: () => sstBlocks(BLOCKS) },
  { name: 'b: JSON ~1 KiB documents', blocks: () => jsonBlocks(BLOCKS) },
];

/** In a child: measures one group and prints its rows and CRC figure as the last line. */
function measureGroup(group: string, candidatesDir: string): void {
  const codecs = CODEC_GROUPS[group]!(candidatesDir);
  const rows = DATASETS.flatMap((d) => evaluate(d.name, d.blocks(), codecs));
  console.log(JSON.stringify({ rows, crcUs: median(crcUs) }));
}

/** In the parent: runs each group in a child, one after another, and prints the table. */
function runAll(): void {
  const groups = Object.keys(CODEC_GROUPS).filter((g) => g === 'kvd' || flags.candidates);
  const candidatesDir = resolve(flags.candidates ?? '.');
  const self = fileURLToPath(import.meta.url);
  const started = performance.now();
  const loadAtStart = loadavg()[0]!;
  const rows: Row[] = [];
  const crc: number[] = [];
  for (const group of groups) {
    const args = ['--expose-gc', self, '--group', group, '--candidates', candidatesDir];
    args.push('--rounds', String(ROUNDS), '--time', String(TASK_MS), '--blocks', String(BLOCKS));
    const child = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (child.status !== 0) {
      console.error(`skipped ${group}: ${child.stderr.trim().split('\n')[0] ?? child.status}`);
      continue;
    }
    const result = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as {
      rows: Row[];
      crcUs: number;
    };
    rows.push(...result.rows);
    crc.push(result.crcUs);
  }
  rows.sort((x, y) => x.dataset.localeCompare(y.dataset));
  console.log(
    `node ${process.version}, ${cpus()[0]?.model ?? 'cpu?'} ×${cpus().length}, load ${loadAtStart.toFixed(2)}; ` +
      `${BLOCKS} blocks a dataset, ${ROUNDS} rounds of ${TASK_MS} ms a task, ${BATCH} blocks an iteration`,
  );
  console.log(
    renderTable(
      [
        'dataset',
        'codec',
        'ratio',
        'stored packed',
        'compress MB/s',
        'decompress MB/s',
        'µs/block',
        'µs range',
      ],
      rows.map((r) => [
        r.dataset,
        r.codec,
        `${fmt(r.ratio, 2)}×`,
        `${r.shrunk}/${r.blocks}`,
        fmt(r.compressMBps, 0),
        fmt(r.decompressMBps, 0),
        fmt(r.decompressUs, 2),
        `${fmt(r.decompressUsRange[0], 2)}–${fmt(r.decompressUsRange[1], 2)}`,
      ]),
    ),
  );
  console.log(
    'stored packed: blocks stored compressed (saving ≥ 1/8). µs/block: median decompress time ' +
      'of one block; kvd rows decompress only the blocks stored packed, as a read does; package rows every block. ' +
      `For scale, CRC32C of one raw block (every read checks one): ${fmt(median(crc), 2)} µs. ` +
      `${((performance.now() - started) / 1000).toFixed(1)} s, load ${loadavg()[0]!.toFixed(2)} at the end.`,
  );
  console.log(
    JSON.stringify({ rounds: ROUNDS, taskMs: TASK_MS, batch: BATCH, crcUs: median(crc), rows }),
  );
}

if (flags.group !== undefined) measureGroup(flags.group, resolve(flags.candidates ?? '.'));
else runAll();
