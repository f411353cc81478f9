// kill -9 in the middle of writing: a child process (test/fixtures/crash-writer.mjs) writes with
// durability "always", announcing each operation before issuing it and each acknowledgement
// after; the parent SIGKILLs it after a random number of lines, reopens the same directory and
// checks that the store holds exactly the effect of a prefix of the announced operations that
// includes every acknowledged one (so acknowledged writes survive, later acks of a key win, and
// a batch is all or nothing). kill -9 alone never tears a write the kernel accepted, so some
// rounds also cut the log inside its unacknowledged tail (as a power loss could) and others
// append junk after it; recovery must cut either off and report in
// stats().recovery.truncatedBytes exactly the bytes it cut (0 when nothing was torn).

import { appendFileSync, readFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type StoreOptions } from '../../dist/main/index.js';
import { ChildLines, fixturePath } from '../fixtures/child-lines.js';
import { prng } from '../fixtures/prng.js';
import {
  allZero,
  parseSegment,
  SEGMENT_HEADER,
  segmentFiles,
  tornFiles,
  tornTailLength,
} from '../fixtures/segment-file.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const ROUNDS = 24;
const KEYS = Array.from({ length: 24 }, (_, i) => `k${i}`);
const OPTIONS: StoreOptions = { durability: 'always', readers: 1, segmentBytes: 8192 };

type Inner = { op: 'set'; key: string; value: string } | { op: 'del'; key: string };
type Op = { i: number } & (Inner | { op: 'batch'; ops: Inner[] });

function applyInner(state: Map<string, string>, op: Inner): void {
  if (op.op === 'set') state.set(op.key, op.value);
  else state.delete(op.key);
}

function apply(state: Map<string, string>, op: Op): Map<string, string> {
  const next = new Map(state);
  if (op.op === 'batch') for (const inner of op.ops) applyInner(next, inner);
  else applyInner(next, op);
  return next;
}

function segmentId(name: string): number {
  return Number.parseInt(name, 10);
}

function sameState(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** The whole key space as the reopened store serves it, through getMany and getSync. */
async function readState(store: Store): Promise<Map<string, string>> {
  const values = await store.getMany(KEYS);
  const state = new Map<string, string>();
  KEYS.forEach((key, n) => {
    const pooled = values[n]?.toString('utf8');
    expect(store.getSync(key)?.toString('utf8'), `getSync and getMany disagree on ${key}`).toBe(
      pooled,
    );
    if (pooled !== undefined) {
      expect(pooled, `${key} holds something never written`).toMatch(/^r\d+\.\d+\.v*(#\d+)?$/);
      state.set(key, pooled);
    }
  });
  expect((await store.stats()).keys, 'stats().keys').toBe(state.size);
  return state;
}

function describeState(state: Map<string, string>): string {
  return [...state]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v.replace(/v+/, 'v…')}`)
    .join(' ');
}

describe('crash safety under kill -9 (durability always)', () => {
  afterEach(removeTempDirs);

  it(`keeps every acknowledged write and every batch whole across ${ROUNDS} kills`, async () => {
    const seed = Date.now() >>> 0;
    const random = prng(seed);
    const dir = await makeTempDir('crash');
    const script = fixturePath('crash-writer.mjs');
    let base = new Map<string, string>();
    let totalAcked = 0;
    let totalTruncated = 0;
    let junkRounds = 0;
    let tearRounds = 0;
    /** Per round, announced operations that did not survive (in flight, or torn off). */
    const lostInFlight: number[] = [];

    for (let round = 0; round < ROUNDS; round++) {
      const where = `seed ${seed}, round ${round}`;
      // Where the log ends before this round's writes: the cut of a tear round stays after it.
      const lastBefore = segmentFiles(dir).at(-1);
      const roundStart = lastBefore
        ? { name: lastBefore, size: readFileSync(join(dir, lastBefore)).length }
        : { name: '', size: 0 };
      const child = new ChildLines(process.execPath, [
        script,
        dir,
        String(Math.floor(random() * 2 ** 32)),
        String(round),
      ]);
      const intents: Op[] = [];
      const acks = new Map<number, string>();
      /** Where the records ended when each operation was acknowledged (segment name, offset). */
      const ackedAt = new Map<number, { name: string; size: number }>();
      try {
        expect(await child.expectLine(), `${where}: first line`).toBe('ready');
        // Kill after a random number of lines: sometimes right after an intent (a write in
        // flight), sometimes right after an acknowledgement.
        const killAfter = 1 + Math.floor(random() * 120);
        const lines: string[] = [];
        for (let n = 0; n < killAfter; n++) lines.push(await child.expectLine());
        child.kill('SIGKILL');
        lines.push(...(await child.rest()));
        const exit = await child.exited;
        expect(exit.signal, `${where}: child ended on its own; stderr:\n${child.stderr}`).toBe(
          'SIGKILL',
        );
        for (const line of lines) {
          if (line.startsWith('I ')) intents.push(JSON.parse(line.slice(2)) as Op);
          else if (line.startsWith('A ')) {
            const [, i, answer, name, size] = line.split(' ');
            acks.set(Number(i), answer!);
            ackedAt.set(Number(i), { name: name!, size: Number(size) });
          } else expect.fail(`${where}: unexpected line from the child: ${line}`);
        }
      } finally {
        child.kill('SIGKILL');
      }
      intents.forEach((op, n) => {
        expect(op.i, `${where}: intents in order`).toBe(n);
      });
      totalAcked += acks.size;

      // The states the store may be in: the effect of the first m announced operations, for
      // every m that covers all acknowledged ones. Deletes' answers must match the prefix too.
      const states = [base];
      for (const op of intents) {
        const before = states[states.length - 1]!;
        const answer = acks.get(op.i);
        if (op.op === 'del' && answer !== undefined) {
          expect(answer, `${where}: delete #${op.i} of ${op.key}`).toBe(String(before.has(op.key)));
        }
        states.push(apply(before, op));
      }
      let mustKeep = Math.max(-1, ...acks.keys());

      // Every third round: also tear the last segment at a random byte written this round, as
      // a power loss could. Only the operations acknowledged with the log ending at or before
      // the cut must then survive; batches must still be whole.
      let mustTruncate = false;
      let tear = '';
      if (round % 3 === 0) {
        const name = segmentFiles(dir).at(-1)!;
        const path = join(dir, name);
        const bytes = readFileSync(path);
        const from = name === roundStart.name ? roundStart.size : SEGMENT_HEADER;
        // Under `always` the writer preallocates zeros after the data: cut inside the data.
        let dataEnd = bytes.length;
        while (dataEnd > from && bytes[dataEnd - 1] === 0) dataEnd--;
        if (dataEnd > from) {
          tearRounds++;
          const cut = from + Math.floor(random() * (dataEnd - from));
          truncateSync(path, cut);
          tear = `, log torn at ${name}:${cut}`;
          // Recovery must report a cut unless it falls on a record boundary (or leaves only
          // zeros behind it, which recovery takes for preallocated space).
          const boundaries = parseSegment(bytes).flatMap((r) => [r.offset, r.offset + r.length]);
          const recordStart = Math.max(SEGMENT_HEADER, ...boundaries.filter((o) => o <= cut));
          mustTruncate = !allZero(bytes, recordStart, cut);
          mustKeep = -1;
          for (const [i, end] of ackedAt) {
            const before =
              end.name === name ? end.size <= cut : segmentId(end.name) < segmentId(name);
            if (before) mustKeep = Math.max(mustKeep, i);
          }
        }
      }

      // What recovery must cut, read from the file as it stands: the bytes after the last whole,
      // intact record that no unfinished batch holds back: 0 after a plain kill (each group goes
      // out in one write) unless the kill cut that write short; after a tear, the partial record,
      // and a batch's first records when the cut falls inside the batch, even on a boundary.
      const mustCut = tornTailLength(readFileSync(join(dir, segmentFiles(dir).at(-1)!)));
      const store = await Store.open(dir, OPTIONS);
      try {
        const stats = await store.stats();
        expect(stats.recovery.truncatedBytes, `${where}${tear}: bytes cut`).toBe(mustCut);
        if (mustTruncate) expect(stats.recovery.truncatedBytes, where + tear).toBeGreaterThan(0);
        totalTruncated += stats.recovery.truncatedBytes;
        if (stats.recovery.truncatedBytes > 0) {
          const last = segmentFiles(dir).at(-1)!;
          expect(tornFiles(dir, last).length, `${where}: cut bytes saved`).toBeGreaterThan(0);
        }
        const actual = await readState(store);
        const m = states.findIndex((s, n) => n > mustKeep && sameState(s, actual));
        expect(
          m,
          `${where}${tear}: the store holds no prefix of the ${intents.length} announced operations that keeps #0..#${mustKeep}\n` +
            `  actual:        ${describeState(actual)}\n` +
            `  through #${mustKeep}: ${describeState(states[mustKeep + 1]!)}`,
        ).toBeGreaterThanOrEqual(0);
        if (m < intents.length) lostInFlight.push(intents.length - m);
        base = states[m]!;
      } finally {
        await store.close();
      }

      // Every third round: junk after the last record (a torn append that never finished).
      if (round % 3 === 1) {
        junkRounds++;
        const last = join(dir, segmentFiles(dir).at(-1)!);
        const sizeBefore = readFileSync(last).length;
        const junk = Buffer.alloc(1 + Math.floor(random() * 90));
        for (let n = 0; n < junk.length; n++) junk[n] = Math.floor(random() * 256);
        junk[0] = 0xa5; // not all zeros, which recovery would take for preallocated space
        junk[4] = 1; // a plausible record type, so only the length or checksum gives it away
        appendFileSync(last, junk);
        const reopened = await Store.open(dir, OPTIONS);
        try {
          const where2 = `${where}, ${junk.length} junk bytes`;
          expect((await reopened.stats()).recovery.truncatedBytes, where2).toBe(junk.length);
          expect(readFileSync(last).length, where2).toBe(sizeBefore);
          expect(sameState(await readState(reopened), base), where2).toBe(true);
        } finally {
          await reopened.close();
        }
      }
    }
    // The run did exercise the interesting cases.
    expect(totalAcked, 'acknowledged writes over all rounds').toBeGreaterThan(ROUNDS);
    expect(junkRounds).toBeGreaterThan(0);
    expect(tearRounds).toBeGreaterThan(0);
    expect(segmentFiles(dir).length, 'segments rotated').toBeGreaterThan(1);
    expect(totalTruncated, 'bytes cut by recovery over all rounds').toBeGreaterThan(0);
  }, 120_000);
});
