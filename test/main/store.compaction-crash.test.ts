// Crash safety of compaction, hint files and index snapshots: a child process
// (test/fixtures/compaction-writer.mjs) writes while compaction runs and is killed with SIGKILL,
// either at each named step of a merge or snapshot (KVD_FAULT fault points: before the commit
// rename, between hint and segment renames, after the commit, half way through the install,
// after it, after the old files are removed, between a snapshot's write and rename, and between
// a sealed segment's hint write and rename), or at
// random moments over many rounds. Each time, reopening must give back exactly the
// acknowledged writes (plus, at most, the one in flight), leave no temporary file, and keep
// working.

import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Store, type StoreOptions } from '../../dist/main/index.js';
import { applyAnnounced, type Model } from '../fixtures/announced-model.js';
import { ChildLines, fixturePath } from '../fixtures/child-lines.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const OPTIONS: StoreOptions = { readers: 1, segmentBytes: 4096, compaction: { auto: false } };
const KEYS = Array.from({ length: 100 }, (_, i) => `k${i}`);
const FAULT_POINTS = [
  'merge-before-commit',
  'merge-hint-committed',
  'merge-committed',
  'merge-installing',
  'merge-installed',
  'merge-retired',
  'snapshot-written',
  'hint-written',
  'keys-written',
];
const RANDOM_ROUNDS = 24;

afterEach(removeTempDirs);

/** Reads the child's lines until it ends (or `killAfter` acks), returning announced/acked ops. */
async function collect(child: ChildLines, killAfter = Number.POSITIVE_INFINITY) {
  const announced: string[] = [];
  let acked = 0;
  const other: string[] = [];
  for (let line = await child.next(); line !== undefined; line = await child.next()) {
    if (line.startsWith('I ')) announced.push(line);
    else if (line.startsWith('A ')) {
      acked++;
      if (acked >= killAfter) child.kill('SIGKILL');
    } else other.push(line);
  }
  return { announced, acked, other, exit: await child.exited };
}

/** The store's contents, read back through getMany and getSync. */
async function contents(store: Store): Promise<Model> {
  const values = await store.getMany(KEYS);
  const found: Model = new Map();
  KEYS.forEach((k, i) => {
    const v = values[i];
    expect(store.getSync(k)?.toString(), `${k}: getSync agrees with getMany`).toBe(v?.toString());
    if (v !== undefined) found.set(k, v.toString());
  });
  return found;
}

/** A full range scan returns exactly the keys of `actual`, in byte order, with their values. */
function expectRange(store: Store, actual: Model, what: string): void {
  const ranged = [...store.rangeSync()].map((e) => [e.key.toString(), e.value.toString()]);
  const sorted = [...actual].sort(([a], [b]) => Buffer.compare(Buffer.from(a!), Buffer.from(b!)));
  expect(ranged, what).toEqual(sorted);
}

function describeDiff(a: Model, b: Model): string {
  const keys = [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
  return keys
    .slice(0, 5)
    .map((k) => `${k}: ${a.get(k)?.slice(0, 12)} vs ${b.get(k)?.slice(0, 12)}`)
    .join('; ');
}

/** Reopens `dir` and checks that it holds `model` or (if given) `orInFlight`; returns what it holds. */
async function reopenAndCheck(dir: string, where: string, model: Model, orInFlight?: Model) {
  const store = await Store.open(dir, OPTIONS);
  try {
    // A crash may leave temporary files; open removes them.
    expect(
      readdirSync(dir).filter((n) => n.endsWith('.tmp')),
      `${where}: after open`,
    ).toEqual([]);
    const actual = await contents(store);
    const matches = (m: Model | undefined) =>
      m !== undefined && m.size === actual.size && [...m].every(([k, v]) => actual.get(k) === v);
    expect(
      matches(model) || matches(orInFlight),
      `${where}: the store holds neither the acknowledged state nor that plus the write in flight (${describeDiff(actual, model)})`,
    ).toBe(true);
    expect((await store.stats()).keys, `${where}: key count`).toBe(actual.size);
    expectRange(store, actual, `${where}: a range scan`);
    // And it keeps working: a full merge changes nothing.
    await store.compact();
    expect(await contents(store), `${where}: after another compact()`).toEqual(actual);
    expectRange(store, actual, `${where}: a range scan after another compact()`);
    return actual;
  } finally {
    await store.close();
  }
}

describe('crash safety of compaction and snapshots (kill -9)', () => {
  it.each(FAULT_POINTS)('killed at %s: reopening keeps every acknowledged write', async (point) => {
    const dir = await makeTempDir(`fault-${point}`);
    const child = new ChildLines(
      process.execPath,
      [fixturePath('compaction-writer.mjs'), dir, 'fault', '7', '0'],
      { KVD_FAULT: point },
    );
    const { announced, acked, other, exit } = await collect(child);
    expect(exit.signal, `the fault point was reached; stderr: ${child.stderr}`).toBe('SIGKILL');
    if (point === 'hint-written' || point === 'keys-written') {
      // Killed by the automatic check's hint job: usually during the operations, but on a busy
      // machine the job may first reach the point during the final compact().
      expect(other.filter((line) => line !== 'compacting')).toEqual([]);
    } else {
      expect(other).toEqual(['compacting']);
      expect(acked).toBe(400);
    }
    let model: Model = new Map();
    for (let i = 0; i < acked; i++) model = applyAnnounced(model, announced[i]!);
    const inFlight =
      announced.length > acked ? applyAnnounced(model, announced[acked]!) : undefined;
    await reopenAndCheck(dir, point, model, inFlight);
  });

  it(`keeps every acknowledged write across ${RANDOM_ROUNDS} kills at random moments during merges and snapshots`, async () => {
    const dir = await makeTempDir('compaction-kill');
    let model: Model = new Map();
    let merged = 0;
    for (let round = 0; round < RANDOM_ROUNDS; round++) {
      const child = new ChildLines(process.execPath, [
        fixturePath('compaction-writer.mjs'),
        dir,
        'random',
        String(1000 + round),
        String(round),
      ]);
      const killAfter = 30 + ((round * 7919) % 250);
      const { announced, acked, other, exit } = await collect(child, killAfter);
      expect(exit.signal, `round ${round}: stderr ${child.stderr}`).toBe('SIGKILL');
      expect(
        other.filter((l) => l.startsWith('E ')),
        `round ${round}`,
      ).toEqual([]);
      let state = model;
      for (let i = 0; i < acked; i++) state = applyAnnounced(state, announced[i]!);
      const inFlight =
        announced.length > acked ? applyAnnounced(state, announced[acked]!) : undefined;
      model = await reopenAndCheck(dir, `round ${round}`, state, inFlight);
      merged += readdirSync(dir).filter((n) => n.endsWith('.hint') || n.endsWith('.sst')).length;
    }
    expect(merged, 'merges and hints were really happening').toBeGreaterThan(0);
  }, 240_000);
});
