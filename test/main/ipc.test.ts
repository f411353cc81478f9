// The IPC client (spawnStore) against real child processes: a model test against a Map (binary
// values, pipelined writes, close and respawn), errors crossing the process boundary by code,
// the child's lifetime (close() waits for its exit; a parent killed by SIGKILL or interrupted
// by Ctrl-C leaves no child holding the lock) and a child that dies under pending calls.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Durability,
  type RemoteStore,
  Store,
  type StoreOptions,
  spawnStore,
} from '../../dist/main/index.js';
import { ChildLines, fixturePath } from '../fixtures/child-lines.js';
import { expectFailsWith, expectRejectsWith } from '../fixtures/kv-errors.js';
import {
  type BatchCmd,
  type KeyRef,
  modelWrites,
  type Value,
  type WriteCmd,
} from '../fixtures/model-writes.js';
import { pollUntil } from '../fixtures/poll.js';
import { makeTempDir, removeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const BASE: StoreOptions = { readers: 1, durability: 'no' };
const KEYS = ['a', 'b', 'ключ', '鍵🔑', '', 'a\u0000b', 'k'.repeat(100)];
/** Every byte value, 0 to 255. */
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

/** True once no process has `pid` (a zombie still counts as existing). */
function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Awaits `promise`, failing after `ms` (so a failure is reported and cleaned up, not hung). */
async function bounded<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The one-letter state of a process from /proc (R, S, T for stopped, Z, ...). */
function processState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

// ---------------------------------------------------------------------------------------------
// Model test

type Cmd =
  | WriteCmd
  | BatchCmd
  | { readonly t: 'pipeline'; readonly ops: readonly (WriteCmd | BatchCmd)[] }
  | { readonly t: 'get' | 'has'; readonly key: KeyRef }
  | { readonly t: 'getMany' | 'gets'; readonly keys: readonly KeyRef[] }
  | { readonly t: 'stats' | 'respawn' };

const value: fc.Arbitrary<Value> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 600 }) },
  // A view into a larger buffer: only the view's bytes may travel.
  {
    weight: 2,
    arbitrary: fc
      .uint8Array({ maxLength: 64 })
      .map((bytes) => Buffer.concat([Buffer.from('<<'), bytes, Buffer.from('>>')]).subarray(2, -2)),
  },
  { weight: 2, arbitrary: fc.constantFrom<Value>(ALL_BYTES, Buffer.from(ALL_BYTES).reverse()) },
  { weight: 1, arbitrary: fc.constantFrom<Value>('', new Uint8Array(0), Buffer.alloc(0)) },
  // Larger than a whole 4 KiB segment: such a record gets a segment of its own.
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 4500, maxLength: 6000 }) },
);
const { keyRef, setCmd, deleteCmd, writeCmd, batchCmd, keyOf, modelKey, toBatchOp, applyToModel } =
  modelWrites(KEYS, value, 6);
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: setCmd },
  { weight: 3, arbitrary: deleteCmd },
  { weight: 2, arbitrary: batchCmd },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('pipeline' as const),
      ops: fc.array(fc.oneof(writeCmd, batchCmd), { minLength: 2, maxLength: 8 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ t: fc.constantFrom<'get' | 'has'>('get', 'has'), key: keyRef }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constantFrom<'getMany' | 'gets'>('getMany', 'gets'),
      keys: fc.array(keyRef, { maxLength: 10 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'stats' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'respawn' as const }) },
);

function expectValue(actual: Buffer | undefined, expected: Buffer | undefined, what: string): void {
  if (expected === undefined) {
    expect(actual, what).toBeUndefined();
  } else {
    expect(Buffer.isBuffer(actual), `${what}: a Buffer`).toBe(true);
    expect(actual!.equals(expected), `${what}: bytes differ`).toBe(true);
  }
}

function issue(store: RemoteStore, op: WriteCmd | BatchCmd): Promise<unknown> {
  if (op.t === 'batch') return store.batch(op.ops.map(toBatchOp));
  if (op.t === 'set') return store.set(keyOf(op.key), op.value);
  return store.delete(keyOf(op.key));
}

/** Every key of the key space through get, getMany and has, plus the live key count. */
async function checkEverything(store: RemoteStore, model: Map<string, Buffer>, when: string) {
  const refs = KEYS.flatMap((_, k) => [
    { k, asBytes: false },
    { k, asBytes: true },
  ]);
  const many = await store.getMany(refs.map(keyOf));
  for (const [i, ref] of refs.entries()) {
    const expected = model.get(modelKey(ref));
    const what = `${when}: key ${JSON.stringify(KEYS[ref.k])}${ref.asBytes ? ' as bytes' : ''}`;
    expectValue(many[i], expected, `${what} (getMany)`);
    expectValue(await store.get(keyOf(ref)), expected, `${what} (get)`);
    expect(await store.has(keyOf(ref)), `${what} (has)`).toBe(expected !== undefined);
  }
  expect((await store.stats()).keys, `${when}: stats().keys`).toBe(model.size);
}

interface RunStats {
  respawns: number;
  maxSegments: number;
}

async function runCommands(durability: Durability, cmds: readonly Cmd[], seen: RunStats) {
  const dir = await makeTempDir('ipc-model');
  const options: StoreOptions = { durability, readers: 1, segmentBytes: 4096 };
  const model = new Map<string, Buffer>();
  let store = await spawnStore(dir, options);
  try {
    for (const [step, c] of cmds.entries()) {
      const at = `step ${step} (${c.t})`;
      switch (c.t) {
        case 'set':
        case 'batch':
          await issue(store, c);
          if (c.t === 'set') applyToModel(model, c);
          else for (const op of c.ops) applyToModel(model, op);
          break;
        case 'delete':
          expect(await store.delete(keyOf(c.key)), `${at}: delete's answer`).toBe(
            applyToModel(model, c),
          );
          break;
        case 'pipeline': {
          // All in flight at once: the child must apply them in order and answer each one.
          const answers = await Promise.all(c.ops.map((op) => issue(store, op)));
          c.ops.forEach((op, i) => {
            if (op.t === 'batch') {
              for (const inner of op.ops) applyToModel(model, inner);
              expect(answers[i], `${at}: batch #${i}`).toBeUndefined();
            } else {
              const existed = applyToModel(model, op);
              if (op.t === 'delete') expect(answers[i], `${at}: delete #${i}`).toBe(existed);
            }
          });
          break;
        }
        case 'get':
          expectValue(await store.get(keyOf(c.key)), model.get(modelKey(c.key)), at);
          break;
        case 'has':
          expect(await store.has(keyOf(c.key)), at).toBe(model.has(modelKey(c.key)));
          break;
        case 'getMany': {
          const values = await store.getMany(c.keys.map(keyOf));
          expect(values, at).toHaveLength(c.keys.length);
          for (const [i, ref] of c.keys.entries()) {
            expectValue(values[i], model.get(modelKey(ref)), `${at} #${i}`);
          }
          break;
        }
        case 'gets': {
          // Many gets in flight at once, matched to their replies by id.
          const values = await Promise.all(c.keys.map((ref) => store.get(keyOf(ref))));
          for (const [i, ref] of c.keys.entries()) {
            expectValue(values[i], model.get(modelKey(ref)), `${at} #${i}`);
          }
          break;
        }
        case 'stats': {
          const stats = await store.stats();
          expect(stats.keys, at).toBe(model.size);
          seen.maxSegments = Math.max(seen.maxSegments, stats.segments.length);
          break;
        }
        case 'respawn': {
          const pid = store.pid;
          await store.close();
          expect(processGone(pid), `${at}: child ${pid} gone once close() resolved`).toBe(true);
          store = await spawnStore(dir, options);
          seen.respawns++;
          expect((await store.stats()).keys, `${at}: keys after respawn`).toBe(model.size);
          break;
        }
      }
    }
    await checkEverything(store, model, 'after the last command');
    seen.maxSegments = Math.max(seen.maxSegments, (await store.stats()).segments.length);
    await store.close();
    store = await spawnStore(dir, options);
    await checkEverything(store, model, 'after the final respawn');
  } finally {
    await store.close();
    await removeTempDir(dir);
  }
}

/** One sequence always run first, so every run covers rotation, a pipeline and a respawn. */
const EXAMPLE: Cmd[] = [
  { t: 'set', key: { k: 0, asBytes: false }, value: new Uint8Array(5000).fill(7) },
  { t: 'set', key: { k: 1, asBytes: true }, value: ALL_BYTES },
  {
    t: 'pipeline',
    ops: [
      { t: 'set', key: { k: 2, asBytes: false }, value: new Uint8Array(4500).fill(9) },
      { t: 'delete', key: { k: 0, asBytes: true } },
      { t: 'batch', ops: [{ t: 'set', key: { k: 4, asBytes: false }, value: '' }] },
      { t: 'delete', key: { k: 3, asBytes: false } },
    ],
  },
  { t: 'respawn' },
  { t: 'gets', keys: [0, 1, 2, 3, 4].map((k) => ({ k, asBytes: k % 2 === 0 })) },
  { t: 'stats' },
];

describe('spawnStore against a Map model', () => {
  afterEach(removeTempDirs);

  it('agrees with the model on random commands, pipelined, across rotation and respawn', async () => {
    const seen: RunStats = { respawns: 0, maxSegments: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Durability>('no', 'everysec', 'always'),
        fc.array(cmd, { minLength: 1, maxLength: 40 }),
        (durability, cmds) => runCommands(durability, cmds, seen),
      ),
      { numRuns: 6, examples: [['always', EXAMPLE]] },
    );
    // The runs must actually have exercised respawning and rotation.
    expect(seen.respawns).toBeGreaterThan(0);
    expect(seen.maxSegments).toBeGreaterThan(1);
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------
// Errors and lifetime

/** Bypasses the static types, as a JavaScript caller could. */
function untyped<T>(value: unknown): T {
  return value as T;
}

describe('spawnStore errors', () => {
  afterEach(removeTempDirs);

  it('carries each error code across the process boundary, and keeps working after', async () => {
    const dir = await makeTempDir('ipc-errors');
    const store = await spawnStore(dir, { ...BASE, maxKeyBytes: 8, maxValueBytes: 16 });
    try {
      const big = 'k'.repeat(9);
      await expectRejectsWith(store.set(big, 'v'), 'KV_KEY_TOO_LARGE', 'set: ');
      await expectRejectsWith(store.get(new Uint8Array(9)), 'KV_KEY_TOO_LARGE', 'get: ');
      await expectRejectsWith(store.getMany(['ok', big]), 'KV_KEY_TOO_LARGE', 'getMany: ');
      await expectRejectsWith(store.has(big), 'KV_KEY_TOO_LARGE', 'has: ');
      await expectRejectsWith(store.delete(big), 'KV_KEY_TOO_LARGE', 'delete: ');
      await expectRejectsWith(
        store.batch([
          { type: 'set', key: 'ok', value: 'v' },
          { type: 'delete', key: big },
        ]),
        'KV_KEY_TOO_LARGE',
        'batch: ',
      );
      await expectRejectsWith(store.set('k', new Uint8Array(17)), 'KV_VALUE_TOO_LARGE');
      await expectRejectsWith(store.set(untyped(42), 'v'), 'KV_INVALID_ARGUMENT', 'number key: ');
      await expectRejectsWith(
        store.batch([untyped({ type: 'merge', key: 'k' })]),
        'KV_INVALID_ARGUMENT',
        'bad batch op: ',
      );
      // Structured clone refuses a function: rejected in the parent, the channel stays usable.
      await expectRejectsWith(
        store.set(
          'k',
          untyped(() => 1),
        ),
        'KV_INVALID_ARGUMENT',
        'uncloneable value: ',
      );
      // The rejected batch wrote nothing, and the store still works.
      expect(await store.has('ok')).toBe(false);
      await store.set('k', ALL_BYTES.subarray(0, 16));
      expect((await store.get('k'))!.equals(ALL_BYTES.subarray(0, 16))).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('rejects every call with KV_CLOSED after close(); close() is idempotent', async () => {
    const dir = await makeTempDir('ipc-closed');
    const store = await spawnStore(dir, BASE);
    await store.set('a', '1');
    expect(store.isClosed).toBe(false);
    await store.close();
    expect(store.isClosed).toBe(true);
    await store.close();
    await expectRejectsWith(store.set('a', '2'), 'KV_CLOSED', 'set: ');
    await expectRejectsWith(store.get('a'), 'KV_CLOSED', 'get: ');
    await expectRejectsWith(store.getMany(['a']), 'KV_CLOSED', 'getMany: ');
    await expectRejectsWith(store.has('a'), 'KV_CLOSED', 'has: ');
    await expectRejectsWith(store.delete('a'), 'KV_CLOSED', 'delete: ');
    await expectRejectsWith(store.batch([]), 'KV_CLOSED', 'batch: ');
    await expectRejectsWith(store.flush(), 'KV_CLOSED', 'flush: ');
    await expectRejectsWith(store.stats(), 'KV_CLOSED', 'stats: ');
  });

  it('fails to spawn with KV_LOCKED while this process holds the directory, and with bad options', async () => {
    const dir = await makeTempDir('ipc-locked');
    const holder = await Store.open(dir, BASE);
    try {
      await expectFailsWith(() => spawnStore(dir, BASE), 'KV_LOCKED');
      await holder.set('held', 'yes');
    } finally {
      await holder.close();
    }
    await expectFailsWith(() => spawnStore(dir, { readers: 0 }), 'KV_INVALID_ARGUMENT');
    // The failed children left nothing behind: the directory opens, with its data.
    const store = await spawnStore(dir, BASE);
    try {
      expect((await store.get('held'))?.toString()).toBe('yes');
    } finally {
      await store.close();
    }
  });

  it('rejects pending and later calls with KV_INTERNAL when the child dies', async () => {
    const dir = await makeTempDir('ipc-died');
    const store = await spawnStore(dir, BASE);
    await store.set('kept', 'acknowledged');
    // Stop the child so it cannot answer, put calls in flight, then kill it.
    process.kill(store.pid, 'SIGSTOP');
    await pollUntil('the child is stopped', () => processState(store.pid) === 'T', 10_000);
    const pending = [store.set('lost', 'x'), store.get('kept'), store.stats()];
    process.kill(store.pid, 'SIGKILL');
    for (const call of pending) {
      const error = await expectRejectsWith(call, 'KV_INTERNAL');
      expect(error.message).toContain('SIGKILL');
    }
    await expectRejectsWith(store.get('kept'), 'KV_INTERNAL', 'a later call: ');
    await store.close(); // nothing left to release: it resolves
    const reopened = await Store.open(dir, BASE);
    try {
      expect(reopened.getSync('kept')?.toString()).toBe('acknowledged');
    } finally {
      await reopened.close();
    }
  });
});

describe('spawnStore child lifetime', () => {
  afterEach(removeTempDirs);

  it('close() waits for calls in flight and resolves only after the child has exited', async () => {
    const dir = await makeTempDir('ipc-close');
    const store = await spawnStore(dir, { ...BASE, durability: 'everysec' });
    const pid = store.pid;
    expect(processGone(pid)).toBe(false);
    // Issued without waiting, then close(): every one must be applied and acknowledged.
    const writes = Array.from({ length: 300 }, (_, i) =>
      store.set(`k${i}`, Buffer.from([i & 0xff, 0, 0xff])),
    );
    const deleted = store.delete('k0');
    await store.close();
    expect(processGone(pid), `child ${pid} still exists after close() resolved`).toBe(true);
    await Promise.all(writes);
    expect(await deleted).toBe(true);
    const reopened = await Store.open(dir, BASE);
    try {
      expect(reopened.getSync('k0')).toBeUndefined();
      for (let i = 1; i < 300; i++) {
        expect(reopened.getSync(`k${i}`)?.equals(Buffer.from([i & 0xff, 0, 0xff])), `k${i}`).toBe(
          true,
        );
      }
    } finally {
      await reopened.close();
    }
  });

  it('a parent killed with SIGKILL leaves no child: it exits, the lock is free, acked writes are kept', async () => {
    const dir = await makeTempDir('ipc-orphan');
    const parent = new ChildLines(process.execPath, [fixturePath('ipc-parent.mjs'), 'write', dir]);
    let childPid = 0;
    const acked: number[] = [];
    try {
      const first = await parent.expectLine();
      expect(first).toMatch(/^pid \d+$/);
      childPid = Number(first.slice(4));
      expect(await parent.expectLine()).toBe('ready');
      while (acked.length < 50) {
        const line = await parent.expectLine();
        expect(line).toMatch(/^ack \d+$/);
        acked.push(Number(line.slice(4)));
      }
      // The child inherited the parent's stderr pipe: it closes once the child has exited too.
      const stderrClosed = once(parent.child.stderr!, 'close');
      parent.kill('SIGKILL');
      expect((await parent.exited).signal).toBe('SIGKILL');
      await bounded(stderrClosed, `child ${childPid} to exit (its stderr to close)`);
      // The orphan is reaped by init, which may take a moment: poll, bounded.
      await pollUntil(`child ${childPid} no longer exists`, () => processGone(childPid), 10_000);
    } finally {
      parent.kill('SIGKILL');
      if (childPid > 0 && !processGone(childPid)) process.kill(childPid, 'SIGKILL');
    }
    // No retry: the lock must be free now.
    const store = await Store.open(dir, BASE);
    try {
      for (let i = 0; i < 50; i++) expect(store.getSync(`pre${i}`)?.toString()).toBe(`value ${i}`);
      for (const i of acked) {
        const expected = Buffer.from([i & 0xff, 0, 0xff, (i >> 8) & 0xff]);
        expect(store.getSync(`k${i}`)?.equals(expected), `acknowledged k${i}`).toBe(true);
      }
    } finally {
      await store.close();
    }
  });

  it('Ctrl-C to the process group: the child ignores it and the parent closes the store cleanly', async () => {
    const dir = await makeTempDir('ipc-sigint');
    // Its own process group, as a shell job would be, so the signal reaches parent and child.
    const parent = spawnGroupLeader([fixturePath('ipc-parent.mjs'), 'idle', dir]);
    let childPid = 0;
    try {
      const first = await parent.line();
      expect(first).toMatch(/^pid \d+$/);
      childPid = Number(first.slice(4));
      expect(await parent.line()).toBe('ready');
      process.kill(-parent.child.pid!, 'SIGINT');
      // Without the child ignoring SIGINT it would die first and close() would fail.
      expect(await parent.line()).toBe('closed');
      expect((await parent.exited).code).toBe(0);
      expect(processGone(childPid), 'the child has exited once close() resolved').toBe(true);
    } finally {
      parent.child.kill('SIGKILL');
      if (childPid > 0 && !processGone(childPid)) process.kill(childPid, 'SIGKILL');
    }
    const store = await Store.open(dir, BASE);
    try {
      expect(store.getSync('before')?.toString()).toBe('sigint');
    } finally {
      await store.close();
    }
  });
});

/** Starts `node <args>` as the leader of a new process group; reads its stdout line by line. */
function spawnGroupLeader(args: readonly string[]): {
  child: ChildProcess;
  line(): Promise<string>;
  exited: Promise<{ code: number | null }>;
} {
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, KVD_LOG_LEVEL: 'silent' },
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null }));
  return {
    child,
    exited,
    async line() {
      const next = await lines.next();
      if (next.done) throw new Error('the parent ended its output early');
      return next.value;
    },
  };
}
