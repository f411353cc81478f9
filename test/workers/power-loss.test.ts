// Power loss, not just kill -9 (which keeps the page cache): each workload runs the writer (and
// the merge) on the test thread through the recording file layer; then, at every point of the
// recorded run, the crash states POSIX allows are built (test/fixtures/crash-states.ts:
// unsynced writes dropped, torn or kept page by page; unsynced renames, creations and removals
// lost or kept) and recovery runs on each. Every state must open (a crash is never taken for
// damage), keep every write that was durable by then (under `always` once acknowledged; under
// `everysec` once a sync covered it), resurrect nothing older, invent nothing, and keep each
// batch whole. The count of states each workload produced and checked is printed.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Throttle } from '../../dist/shared/throttle.js';
import { mergeSegments } from '../../dist/workers/merge.js';
import { type FileOp, RecordingFileSystem } from '../../dist/workers/recording-file-system.js';
import { CrashModel, materialize, stateKey } from '../fixtures/crash-states.js';
import { pollUntil } from '../fixtures/poll.js';
import { prng as seededRandom } from '../fixtures/prng.js';
import { expectValue, MERGE_EVERYTHING, type Op, OpenWriter } from './worker-harness.js';

/** tmpfs if there is one: the recorded run's syncs cost nothing there, the model decides. */
const SCRATCH = ((): string => {
  try {
    return mkdtempSync('/dev/shm/kvd-power-');
  } catch {
    return mkdtempSync(join(tmpdir(), 'kvd-power-'));
  }
})();
afterAll(() => rmSync(SCRATCH, { recursive: true, force: true }));

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f'];

/** One key's write in a group: a put of a unique value, or a delete (value undefined). */
interface KeyWrite {
  readonly key: string;
  readonly value: string | undefined;
}

/** One submission (a plain write or a batch) and where it lies in the recorded run. */
interface Group {
  readonly writes: readonly KeyWrite[];
  readonly batch: boolean;
  /** Index of its first data write: before it, none of its bytes can be on disk. */
  issuedAt: number;
  /** Index of the sync that made all of it durable (Infinity: none did). */
  durableAt: number;
  /**
   * After how many operations it is promised durable: under `always` once acknowledged; under
   * `everysec` once a sync covered it (its second passed).
   */
  promisedAt: number;
  readonly firstOp: number;
  readonly ackOp: number;
}

/** A workload's recorded run. */
interface Run {
  readonly root: string;
  readonly ops: readonly FileOp[];
  readonly groups: readonly Group[];
}

type Submit = (writes: KeyWrite[], batch?: boolean) => Promise<void>;

/** Runs `body` against a writer on a fresh directory through a recording file layer. */
async function record(
  label: string,
  durability: 'always' | 'everysec',
  body: (w: OpenWriter, submit: Submit, files: RecordingFileSystem) => Promise<void>,
  options: { snapshotIntervalMs?: number } = {},
): Promise<Run> {
  const root = mkdtempSync(join(SCRATCH, `${label}-`));
  const files = new RecordingFileSystem();
  const w = await OpenWriter.open(root, {
    durability,
    segmentBytes: 400,
    files,
    syncIntervalMs: 5,
    snapshotIntervalMs: options.snapshotIntervalMs ?? 0,
  });
  const groups: Group[] = [];
  const submit: Submit = async (writes, batch = false) => {
    const firstOp = files.ops.length;
    const ops: Op[] = writes.map((x) =>
      x.value === undefined ? { del: x.key } : { put: x.key, value: x.value },
    );
    const reply = await w.write(batch ? [{ batch: ops }] : ops);
    expect(reply.error).toBeUndefined();
    const ackOp = files.ops.length;
    groups.push({ writes, batch, firstOp, ackOp, issuedAt: 0, durableAt: 0, promisedAt: 0 });
  };
  await body(w, submit, files);
  await w.close();
  placeGroups(groups, files.ops);
  for (const g of groups) g.promisedAt = durability === 'always' ? g.ackOp : g.durableAt + 1;
  return { root, ops: files.ops, groups };
}

/** Finds each group's first data write and the sync that made its last one durable. */
function placeGroups(groups: Group[], ops: readonly FileOp[]): void {
  const paths = new Map<number, string>();
  for (const op of ops) if (op.op === 'create') paths.set(op.inode, op.path);
  for (const g of groups) {
    const lastWrite = new Map<number, number>();
    g.issuedAt = Number.POSITIVE_INFINITY;
    for (let i = g.firstOp; i < g.ackOp; i++) {
      const op = ops[i]!;
      if (op.op === 'write' && paths.get(op.inode)?.endsWith('.log')) {
        g.issuedAt = Math.min(g.issuedAt, i);
        lastWrite.set(op.inode, i);
      }
    }
    expect(g.issuedAt, 'every acknowledged group wrote to a segment').toBeLessThan(g.ackOp);
    g.durableAt = 0;
    g.promisedAt = 0;
    for (const [inode, at] of lastWrite) {
      let synced = Number.POSITIVE_INFINITY;
      for (let i = at + 1; i < ops.length; i++) {
        const op = ops[i]!;
        if (op.op === 'sync' && op.inode === inode) {
          synced = i;
          break;
        }
      }
      g.durableAt = Math.max(g.durableAt, synced);
    }
  }
}

/** Why the recovered key values break the rules for a crash after `at` operations, or ''. */
function violation(
  run: Run,
  at: number,
  recovered: ReadonlyMap<string, string | undefined>,
): string {
  // Each key's history: the group index and value of every write to it, in order.
  const history = new Map<string, { group: number; value: string | undefined }[]>();
  run.groups.forEach((g, n) => {
    for (const x of g.writes) {
      if (!history.has(x.key)) history.set(x.key, []);
      history.get(x.key)!.push({ group: n, value: x.value });
    }
  });
  /** Index in the key's history of the write it shows (-1: none, the key never written). */
  const shown = new Map<string, number>();
  for (const key of KEYS) {
    const h = history.get(key) ?? [];
    const got = recovered.get(key);
    let durable = -1;
    h.forEach((e, i) => {
      if (run.groups[e.group]!.promisedAt <= at) durable = i;
    });
    const candidates = h
      .map((e, i) => ({ ...e, i }))
      .filter((e) => e.i >= durable && run.groups[e.group]!.issuedAt < at);
    const match = [...candidates].reverse().find((e) => e.value === got);
    if (match) shown.set(key, match.i);
    else if (got === undefined && durable === -1) shown.set(key, -1);
    else {
      const allowed = candidates.map((e) => e.value ?? '(deleted)');
      if (durable === -1) allowed.push('(absent)');
      return `${key} = ${got ?? '(absent)'}; allowed: ${allowed.join(', ')}`;
    }
  }
  // All or nothing: a batch visible through one of its puts is visible (or overwritten) in all.
  run.groups.forEach((g, n) => {
    if (!g.batch) return;
    const index = (key: string) => history.get(key)!.findIndex((e) => e.group === n);
    const visible = g.writes.some(
      (x) => x.value !== undefined && shown.get(x.key) === index(x.key),
    );
    if (!visible) return;
    for (const x of g.writes) {
      if ((shown.get(x.key) ?? -1) < index(x.key)) {
        throw new Error(`batch #${n} is visible but ${x.key} does not show it`);
      }
    }
  });
  return '';
}

/** Builds and checks every crash state of `run`; returns how many distinct states it checked. */
async function explore(run: Run, seed: number, randomVariants = 3): Promise<number> {
  const random = seededRandom(seed);
  const model = new CrashModel();
  const seen = new Set<string>();
  let checked = 0;
  for (let at = 0; at <= run.ops.length; at++) {
    if (at > 0) model.apply(run.ops[at - 1]!);
    for (const state of model.states(random, randomVariants)) {
      const key = stateKey(state, run.root);
      if (seen.has(key)) continue;
      seen.add(key);
      checked++;
      const dir = join(SCRATCH, `state-${checked}`);
      materialize(state, run.root, dir);
      const where = `crash after op ${at} of ${run.ops.length} (${state.variant}), seed ${seed}`;
      let w: OpenWriter;
      try {
        w = await OpenWriter.open(dir, { segmentBytes: 400 });
      } catch (error) {
        throw new Error(`${where}: open failed: ${String(error)}`);
      }
      try {
        const recovered = new Map(KEYS.map((k) => [k, w.get(k)] as const));
        const problem = violation(run, at, recovered);
        expect(problem, where).toBe('');
      } finally {
        await w.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  return checked;
}

/** A value that names its write, so a recovered value says which write it came from. */
let serial = 0;
const put = (key: string): KeyWrite => ({ key, value: `${key}#${++serial}` });
const del = (key: string): KeyWrite => ({ key, value: undefined });

function plainWrites(random: () => number, count: number): KeyWrite[][] {
  return Array.from({ length: count }, () => {
    const key = KEYS[Math.floor(random() * KEYS.length)]!;
    return [random() < 0.75 ? put(key) : del(key)];
  });
}

const report: string[] = [];
afterAll(() => {
  // The count of crash states each workload produced and checked (for the report).
  console.log(`power-loss crash states checked:\n  ${report.join('\n  ')}`);
});

describe('power loss at every point of a run (recorded file operations, POSIX crash states)', () => {
  it("a load under 'always': every acknowledged write survives", async () => {
    const random = seededRandom(1);
    const run = await record('load-always', 'always', async (_w, submit) => {
      for (const writes of plainWrites(random, 24)) await submit(writes);
    });
    const states = await explore(run, 11);
    report.push(`load, always: ${run.ops.length} operations, ${states} distinct crash states`);
    expect(states).toBeGreaterThan(run.ops.length);
  }, 120_000);

  it("a load under 'everysec': every write a background sync covered survives", async () => {
    const random = seededRandom(2);
    const run = await record('load-everysec', 'everysec', async (_w, submit, files) => {
      const writes = plainWrites(random, 24);
      for (let n = 0; n < writes.length; n++) {
        await submit(writes[n]!);
        if (n % 6 === 5) {
          // Let the background sync (every 5 ms here) cover what was written so far.
          const syncs = files.ops.filter((o) => o.op === 'sync').length;
          await pollUntil(
            'a background sync',
            () => files.ops.filter((o) => o.op === 'sync').length > syncs,
            5_000,
          );
        }
      }
    });
    expect(run.groups.filter((g) => g.durableAt < g.ackOp + 50).length).toBeGreaterThan(0);
    const states = await explore(run, 12);
    report.push(`load, everysec: ${run.ops.length} operations, ${states} distinct crash states`);
  }, 120_000);

  it('atomic batches stay whole', async () => {
    const random = seededRandom(3);
    const run = await record('batches', 'always', async (_w, submit) => {
      for (let n = 0; n < 12; n++) {
        const keys = [...KEYS].sort(() => random() - 0.5).slice(0, 2 + Math.floor(random() * 3));
        await submit(
          keys.map((k) => (random() < 0.8 ? put(k) : del(k))),
          true,
        );
      }
    });
    const states = await explore(run, 13);
    report.push(`batches, always: ${run.ops.length} operations, ${states} distinct crash states`);
  }, 120_000);

  it('a merge and its install, with writes between them', async () => {
    const random = seededRandom(4);
    const run = await record('merge', 'always', async (w, submit, files) => {
      for (const writes of plainWrites(random, 16)) await submit(writes);
      const plan = expectValue(
        await w.service.planCompaction(true, 0, 0xffffffff, MERGE_EVERYTHING),
      )!;
      const unlimited = new Throttle(new SharedArrayBuffer(4), 0);
      const result = mergeSegments(w.dir, w.index, plan, unlimited, () => {}, files);
      for (const writes of plainWrites(random, 4)) await submit(writes);
      expectValue(await w.service.installCompaction(plan, result));
      for (const writes of plainWrites(random, 4)) await submit(writes);
    });
    expect(run.ops.some((o) => o.op === 'rename' && o.to.endsWith('.sst'))).toBe(true);
    const states = await explore(run, 14, 2);
    report.push(`merge, always: ${run.ops.length} operations, ${states} distinct crash states`);
  }, 180_000);

  it('periodic index snapshots, with writes before and after', async () => {
    const random = seededRandom(5);
    const run = await record(
      'snapshot',
      'everysec',
      async (_w, submit, files) => {
        const snapshots = () =>
          files.ops.filter((o) => o.op === 'rename' && o.to.endsWith('INDEX-SNAPSHOT')).length;
        for (const writes of plainWrites(random, 10)) await submit(writes);
        await pollUntil('a periodic snapshot', () => snapshots() > 0, 5_000);
        for (const writes of plainWrites(random, 10)) await submit(writes);
      },
      { snapshotIntervalMs: 10 },
    );
    const states = await explore(run, 15, 2);
    report.push(
      `index snapshot, everysec: ${run.ops.length} operations, ${states} distinct crash states`,
    );
  }, 180_000);
});
