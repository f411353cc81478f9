// What one synced append costs by how its file was prepared (issue 12, 'always'): a group's
// bytes (64 records of ~140 B) written then fdatasync'd, into a file that grows with each
// write (as kvd's active segment does), into a file extended by ftruncate beforehand, and into
// a file whose blocks were written with zeros and synced beforehand (so the sync has no
// metadata to journal). Not a timing scenario of kvd: it prints a table and JSON.
// Run: tsc -p tsconfig.bench.json && node dist-bench/bench/sync-prealloc.js [--dir D] [--syncs N]

import {
  closeSync,
  fdatasyncSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { renderTable } from './lib/table.js';

const { values: flags } = parseArgs({
  options: {
    dir: { type: 'string', default: '.' },
    syncs: { type: 'string', default: '3000' },
    rounds: { type: 'string', default: '3' },
  },
});
const syncs = Number(flags.syncs);
/** Bytes per synced write: a group of 64 records of dataset A. */
const GROUP_BYTES = 64 * 140;
const ZERO_CHUNK = 1 << 20;

type Preparation = 'grows' | 'ftruncate' | 'zero-filled';
const PREPARATIONS: readonly Preparation[] = ['grows', 'ftruncate', 'zero-filled'];

/** Per-sync times (µs) of `syncs` writes + fdatasync into a file prepared as `how`. */
function run(dir: string, how: Preparation): number[] {
  const path = join(dir, `sync-prealloc-${how}`);
  const fd = openSync(path, 'w+');
  const total = syncs * GROUP_BYTES;
  if (how === 'ftruncate') ftruncateSync(fd, total);
  if (how === 'zero-filled') {
    const zeros = Buffer.alloc(ZERO_CHUNK);
    for (let at = 0; at < total; at += ZERO_CHUNK) writeSync(fd, zeros, 0, ZERO_CHUNK, at);
  }
  fdatasyncSync(fd);
  const group = Buffer.alloc(GROUP_BYTES, 0x6b);
  const times: number[] = [];
  for (let i = 0; i < syncs; i++) {
    const start = process.hrtime.bigint();
    writeSync(fd, group, 0, GROUP_BYTES, i * GROUP_BYTES);
    fdatasyncSync(fd);
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  closeSync(fd);
  rmSync(path);
  return times;
}

const dir = mkdtempSync(join(flags.dir, 'kvd-sync-prealloc-'));
const rows: { how: Preparation; round: number; medianUs: number; meanUs: number; p99Us: number }[] =
  [];
try {
  // Alternate the preparations so a slow phase of the machine hits each alike.
  for (let round = 1; round <= Number(flags.rounds); round++) {
    for (const how of PREPARATIONS) {
      const times = run(dir, how).sort((a, b) => a - b);
      const meanUs = times.reduce((a, b) => a + b, 0) / times.length;
      const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
      rows.push({ how, round, medianUs: at(0.5), meanUs, p99Us: at(0.99) });
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`write ${GROUP_BYTES} B + fdatasync, ${syncs} per row, in ${flags.dir}`);
console.log(
  renderTable(
    ['file', 'round', 'median µs', 'mean µs', 'p99 µs'],
    rows.map((r) => [
      r.how,
      String(r.round),
      r.medianUs.toFixed(0),
      r.meanUs.toFixed(0),
      r.p99Us.toFixed(0),
    ]),
  ),
);
console.log(JSON.stringify({ probe: 'sync-prealloc', groupBytes: GROUP_BYTES, syncs, rows }));
