// Cross-thread test of the shared index (src/shared/index-table.ts): two reader threads probe
// the same SharedArrayBuffer while this thread, acting as the writer, inserts, overwrites and
// forces growth. A location encodes its key id and version, so a reader can prove that every
// location it sees was published for that key, is not torn, and is no older than the newest
// version published before its lookup began (read-your-writes), and that no published key ever
// goes missing during a rehash. Threads synchronise on shared counters and messages only.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexTable } from '../../dist/shared/index-table.js';
import { distUrl, TestWorker, WorkerSources, waitForChange } from './thread-harness.js';

// Control words shared with the readers.
const DONE = 0; // set to 1 by the writer when it has finished
const PROBES = 1; // bumped by readers every 64 lookups (the writer waits on it between chunks)
const CONTROL_WORDS = 2;

const MAX_VERSION = 999; // offset = keyId * 1000 + version
const MIX = 0x5bd1e995;

/** The location published for version `v` of key `id`: every word derived from both. */
function locationFor(id: number, v: number) {
  const offset = id * 1000 + v;
  return { handle: 1 + (id % 1000), offset, length: (offset ^ MIX) >>> 0 };
}

interface ReaderReport {
  readonly probes: number;
  readonly found: number;
  readonly violations: readonly string[];
}

function isReaderReport(m: unknown): m is ReaderReport {
  const r = m as ReaderReport;
  return (
    typeof r?.probes === 'number' && typeof r.found === 'number' && Array.isArray(r.violations)
  );
}

const readerSource = (indexUrl: string) => `
import { parentPort, workerData } from 'node:worker_threads';
import { IndexTable } from ${JSON.stringify(indexUrl)};

const { index, control, begun, published, keys, seed, maxProbes } = workerData;
const table = new IndexTable(index);
const ctl = new Int32Array(control);
const begunV = new Int32Array(begun);
const publishedV = new Int32Array(published);
const violations = [];
const report = (what) => { if (violations.length < 20) violations.push(what); };

let state = seed >>> 0;
const next = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
  return (t ^ (t >>> 14)) >>> 0;
};

parentPort.postMessage('ready');
let probes = 0;
let found = 0;
let finalPass = false;
while (probes < maxProbes) {
  // After the writer is done, one more full pass over every key, then stop.
  if (!finalPass && Atomics.load(ctl, ${DONE}) === 1) finalPass = true;
  const id = finalPass ? probes % keys : next() % keys;
  // Lower bound: a version the writer had fully published before this lookup began.
  const lo = Atomics.load(publishedV, id);
  const tag = table.tagOfKey('k' + id);
  let loc;
  table.beginRead(tag);
  try {
    const slot = table.find(tag, (handle, offset, length) => {
      const owner = Math.floor(offset / ${MAX_VERSION + 1});
      if (handle !== 1 + (owner % 1000) || length !== ((offset ^ ${MIX}) >>> 0)) {
        report('torn candidate for k' + id + ': ' + handle + '/' + offset + '/' + length);
      }
      return owner === id;
    });
    if (slot >= 0) loc = table.locationAt(slot);
  } finally {
    table.endRead(tag);
  }
  // Upper bound: the newest version the writer had started to publish once the lookup ended.
  const hi = Atomics.load(begunV, id);
  if (loc === undefined) {
    if (lo !== 0) report('k' + id + ' missing although version ' + lo + ' was published');
  } else {
    found++;
    const owner = Math.floor(loc.offset / ${MAX_VERSION + 1});
    const v = loc.offset % ${MAX_VERSION + 1};
    if (owner !== id) report('k' + id + ' found at a location of k' + owner);
    if (loc.handle !== 1 + (owner % 1000) || loc.length !== ((loc.offset ^ ${MIX}) >>> 0)) {
      report('torn location for k' + id + ': ' + JSON.stringify(loc));
    }
    if (v < lo || v > hi) report('k' + id + ' at version ' + v + ', expected ' + lo + '..' + hi);
  }
  probes++;
  if (probes % 64 === 0) {
    Atomics.add(ctl, ${PROBES}, 1);
    Atomics.notify(ctl, ${PROBES});
  }
  if (finalPass && probes % keys === keys - 1) break;
}
Atomics.add(ctl, ${PROBES}, 1);
Atomics.notify(ctl, ${PROBES});
parentPort.postMessage({ probes, found, violations });
`;

/** Deterministic PRNG (mulberry32) so a failing run can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

let sources: WorkerSources;
let readerPath: string;

beforeAll(async () => {
  sources = await WorkerSources.create();
  readerPath = await sources.write('index-reader', readerSource(distUrl('shared/index-table.js')));
});

afterAll(async () => {
  await sources.dispose();
});

async function race(hashBits: number, keys: number, ops: number, seed: number): Promise<void> {
  const table = IndexTable.create(0, hashBits);
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  const begun = new Int32Array(new SharedArrayBuffer(keys * 4));
  const published = new Int32Array(new SharedArrayBuffer(keys * 4));
  const readers = [1, 2].map(
    (n) =>
      new TestWorker(readerPath, {
        index: table.buffer,
        control: control.buffer,
        begun: begun.buffer,
        published: published.buffer,
        keys,
        seed: seed * 7 + n,
        maxProbes: 2_000_000,
      }),
  );
  try {
    for (const r of readers) expect(await r.next()).toBe('ready');

    // This thread is the writer. Between chunks it waits until the readers have made progress,
    // so writes, overwrites and every rehash really overlap their lookups.
    const random = prng(seed);
    const check = (id: number) => (_handle: number, offset: number) =>
      Math.floor(offset / (MAX_VERSION + 1)) === id;
    let inserted = 0;
    let progress = Atomics.load(control, PROBES);
    for (let op = 0; op < ops; op++) {
      let id: number;
      if (inserted < keys && (inserted === 0 || random() % 3 !== 0)) id = inserted++;
      else {
        id = random() % inserted;
        if (begun[id]! >= MAX_VERSION) continue;
      }
      const v = begun[id]! + 1;
      const loc = locationFor(id, v);
      Atomics.store(begun, id, v); // announce before publishing: readers' upper bound
      const old = table.writerUpsert(table.tagOfKey(`k${id}`), check(id), loc);
      expect(old).toEqual(v === 1 ? undefined : locationFor(id, v - 1));
      Atomics.store(published, id, v); // published: readers' lower bound from now on
      if (op % 250 === 249) {
        waitForChange(control, PROBES, progress, 'reader progress');
        progress = Atomics.load(control, PROBES);
      }
    }
    Atomics.store(control, DONE, 1);

    const reports = await Promise.all(readers.map((r) => r.next()));
    for (const report of reports) {
      if (!isReaderReport(report)) throw new Error(`unexpected message ${String(report)}`);
      expect(report.violations).toEqual([]);
      expect(report.found).toBeGreaterThan(0);
      expect(report.probes).toBeGreaterThan(keys); // at least the final full pass
    }
    expect(inserted).toBe(keys);
    expect(table.generation).toBeGreaterThanOrEqual(2);
    // And on this thread, after the fact: every key at its newest version.
    for (let id = 0; id < keys; id++) {
      const tag = table.tagOfKey(`k${id}`);
      table.beginRead(tag);
      const slot = table.find(tag, check(id));
      table.endRead(tag);
      expect(table.locationAt(slot)).toEqual(locationFor(id, published[id]!));
    }
  } finally {
    Atomics.store(control, DONE, 1);
    await Promise.all(readers.map((r) => r.worker.terminate()));
  }
}

describe('IndexTable across threads', () => {
  it('readers see only published, untorn locations while the writer upserts and grows', async () => {
    await race(32, 20_000, 30_000, 1);
  });

  it('the same holds when every key collides into 64 hashes', async () => {
    await race(6, 1_500, 2_500, 2);
  });
});
