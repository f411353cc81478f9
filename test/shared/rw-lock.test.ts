// Tests for the Atomics reader-writer lock (src/shared/rw-lock.ts): the lock word's states on one
// thread, then exclusion across threads: a writer keeps a shared counter odd while inside, and
// readers inside a read lock must never see it odd (nor the writer see a reader inside).
// Threads synchronise on shared words (Atomics.wait/notify) and messages, never on timers.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockRead, lockWrite, unlockRead, unlockWrite } from '../../dist/shared/rw-lock.js';
import { distUrl, TestWorker, WorkerSources, waitForChange } from './thread-harness.js';

const WRITER_BIT = 0x4000_0000;

// Shared words.
const LOCK = 0;
const COUNTER = 1; // odd while the writer is inside
const INSIDE = 2; // readers inside a read lock
const DONE = 3; // the writer has finished
const FLAG_A = 4; // per-test handshakes
const FLAG_B = 5;
const FLAG_C = 6;
const WORDS = 8;

interface Report {
  readonly passes: number;
  readonly changes: number;
  readonly violations: readonly string[];
}

function isReport(m: unknown): m is Report {
  const r = m as Report;
  return typeof r?.passes === 'number' && Array.isArray(r.violations);
}

const workerSource = (lockUrl: string) => `
import { parentPort, workerData } from 'node:worker_threads';
import { lockRead, lockWrite, unlockRead, unlockWrite } from ${JSON.stringify(lockUrl)};

const { role, words, iterations } = workerData;
const w = new Int32Array(words);
const violations = [];
const report = (what) => { if (violations.length < 20) violations.push(what); };
const signal = (at) => { Atomics.store(w, at, 1); Atomics.notify(w, at); };

if (role === 'writer') {
  for (let i = 0; i < iterations; i++) {
    lockWrite(w, ${LOCK});
    if (Atomics.load(w, ${INSIDE}) !== 0) report('a reader was inside at writer entry ' + i);
    Atomics.add(w, ${COUNTER}, 1); // odd: writer inside
    for (let k = 0; k < 100; k++) {
      if (Atomics.load(w, ${INSIDE}) !== 0) { report('a reader entered during write ' + i); break; }
    }
    Atomics.add(w, ${COUNTER}, 1); // even again
    unlockWrite(w, ${LOCK});
  }
  signal(${DONE});
  parentPort.postMessage({ passes: iterations, changes: 0, violations });
} else if (role === 'reader') {
  parentPort.postMessage('ready');
  let passes = 0;
  let changes = 0;
  let last = 0;
  while (passes < iterations && Atomics.load(w, ${DONE}) === 0) {
    lockRead(w, ${LOCK});
    Atomics.add(w, ${INSIDE}, 1);
    const seen = Atomics.load(w, ${COUNTER});
    if (seen % 2 !== 0) report('counter odd inside a read lock: ' + seen);
    for (let k = 0; k < 50; k++) {
      if (Atomics.load(w, ${COUNTER}) !== seen) { report('counter moved inside a read lock'); break; }
    }
    Atomics.sub(w, ${INSIDE}, 1);
    unlockRead(w, ${LOCK});
    if (seen !== last) changes++;
    last = seen;
    passes++;
  }
  parentPort.postMessage({ passes, changes, violations });
} else if (role === 'blocked-reader') {
  // The main thread holds the write lock: announce, try to read-lock, record when we got in.
  signal(${FLAG_A});
  lockRead(w, ${LOCK});
  signal(${FLAG_B});
  unlockRead(w, ${LOCK});
  parentPort.postMessage({ passes: 1, changes: 0, violations });
} else if (role === 'holding-reader') {
  // Hold a read lock until the writer announces itself, then note whether it got in meanwhile.
  lockRead(w, ${LOCK});
  signal(${FLAG_A});
  let spins = 0;
  while ((Atomics.load(w, ${LOCK}) & ${WRITER_BIT}) === 0 && spins < 1e9) spins++;
  if (spins >= 1e9) report('the writer never announced itself');
  if (Atomics.load(w, ${FLAG_C}) !== 0) report('the writer got in while a reader held the lock');
  signal(${FLAG_B});
  unlockRead(w, ${LOCK});
  parentPort.postMessage({ passes: 1, changes: 0, violations });
}
`;

let sources: WorkerSources;
let workerPath: string;

beforeAll(async () => {
  sources = await WorkerSources.create();
  workerPath = await sources.write('rw-lock-worker', workerSource(distUrl('shared/rw-lock.js')));
});

afterAll(async () => {
  await sources.dispose();
});

function newWords(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(WORDS * 4));
}

async function report(w: TestWorker): Promise<Report> {
  const m = await w.next();
  if (!isReport(m)) throw new Error(`unexpected message ${String(m)}`);
  return m;
}

describe('rw-lock on one thread', () => {
  it('counts readers in the low bits and marks the writer with bit 30', () => {
    const w = newWords();
    lockRead(w, LOCK);
    lockRead(w, LOCK);
    expect(w[LOCK]).toBe(2);
    unlockRead(w, LOCK);
    expect(w[LOCK]).toBe(1);
    unlockRead(w, LOCK);
    expect(w[LOCK]).toBe(0);
    lockWrite(w, LOCK);
    expect(w[LOCK]).toBe(WRITER_BIT);
    unlockWrite(w, LOCK);
    expect(w[LOCK]).toBe(0);
  });

  it('locks only its own word', () => {
    const w = newWords();
    lockWrite(w, FLAG_A);
    lockRead(w, FLAG_B); // a different lock: not blocked by the writer on FLAG_A
    expect([w[FLAG_A], w[FLAG_B]]).toEqual([WRITER_BIT, 1]);
    unlockRead(w, FLAG_B);
    unlockWrite(w, FLAG_A);
    expect([...w]).toEqual(new Array(WORDS).fill(0));
  });
});

describe('rw-lock across threads', () => {
  it('a writer and two readers never overlap', async () => {
    const w = newWords();
    const readers = [1, 2].map(
      () => new TestWorker(workerPath, { role: 'reader', words: w.buffer, iterations: 5_000_000 }),
    );
    let writer: TestWorker | undefined;
    try {
      for (const r of readers) expect(await r.next()).toBe('ready');
      writer = new TestWorker(workerPath, { role: 'writer', words: w.buffer, iterations: 20_000 });
      const [wr, ...rs] = await Promise.all([writer, ...readers].map(report));
      expect(wr!.violations).toEqual([]);
      for (const r of rs) expect(r.violations).toEqual([]);
      expect(w[COUNTER]).toBe(40_000); // every write completed: the writer was not starved
      expect(w[LOCK]).toBe(0);
      expect(w[INSIDE]).toBe(0);
      // The readers really ran while the writer did: they saw the counter move between passes.
      expect(rs.reduce((n, r) => n + r.changes, 0)).toBeGreaterThan(0);
    } finally {
      Atomics.store(w, DONE, 1);
      await Promise.all([writer, ...readers].map((t) => t?.worker.terminate()));
    }
  });

  it('a reader that arrives while the writer holds the lock waits, then gets in', async () => {
    const w = newWords();
    lockWrite(w, LOCK);
    const reader = new TestWorker(workerPath, { role: 'blocked-reader', words: w.buffer });
    try {
      waitForChange(w, FLAG_A, 0, 'the reader to start');
      // The reader enters lockRead, sees the writer bit and backs off, and backing off notifies
      // this word: so once this wait returns, the reader has tried and been turned away.
      // A turned-away reader retries, and notifies again, until the writer leaves, so a missed
      // notify is followed by another; the loop bound only turns a hang into a failure.
      let outcome = 'timed-out';
      for (let i = 0; i < 30 && outcome === 'timed-out' && Atomics.load(w, FLAG_B) === 0; i++) {
        outcome = Atomics.wait(w, LOCK, WRITER_BIT, 1_000);
      }
      expect(Atomics.load(w, FLAG_B)).toBe(0); // not inside while we hold the write lock
      expect(outcome).not.toBe('timed-out');
      unlockWrite(w, LOCK);
      waitForChange(w, FLAG_B, 0, 'the reader to get in');
      expect((await report(reader)).violations).toEqual([]);
      expect(w[LOCK]).toBe(0);
    } finally {
      await reader.worker.terminate();
    }
  });

  it('the writer waits for a reader already inside to leave', async () => {
    const w = newWords();
    const reader = new TestWorker(workerPath, { role: 'holding-reader', words: w.buffer });
    try {
      waitForChange(w, FLAG_A, 0, 'the reader to take its lock');
      lockWrite(w, LOCK); // blocks until the reader, which sees our bit, unlocks
      Atomics.store(w, FLAG_C, 1);
      expect(Atomics.load(w, FLAG_B)).toBe(1); // the reader had already left
      unlockWrite(w, LOCK);
      expect((await report(reader)).violations).toEqual([]);
      expect(w[LOCK]).toBe(0);
    } finally {
      await reader.worker.terminate();
    }
  });
});
