// One open Store shared with child processes over their IPC channels (shareStore and
// connectSharedStore), with real forked children: their writes and reads meet the parent's,
// ranges page across the channel, concurrent increments from two children never collide,
// application messages pass untouched, and the ends of use (the child's close, the parent's
// close, a closed channel, a channel without advanced serialization) give their error codes.

import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { type Store, Store as StoreClass, shareStore } from '../../dist/main/index.js';
import { fixturePath } from '../fixtures/child-lines.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const children: ChildProcess[] = [];
const stores: Store[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  for (const store of stores.splice(0)) await store.close();
  await removeTempDirs();
});

async function openStore(): Promise<Store> {
  const store = await StoreClass.open(await makeTempDir('ipc-share'), { durability: 'no' });
  stores.push(store);
  return store;
}

/** Forks the fixture child, shares `store` with it, and waits for its ready message. */
async function forkChild(store: Store): Promise<{ child: ChildProcess; ask: Ask }> {
  const child = fork(fixturePath('shared-store-child.mjs'), [], {
    serialization: 'advanced',
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  children.push(child);
  shareStore(store, child);
  const ready = await new Promise<{ ready: string }>((resolve, reject) => {
    const listener = (message: { ready?: string }) => {
      if (message.ready === undefined) return; // kvd's own requests travel on the channel too
      child.off('message', listener);
      resolve({ ready: message.ready });
    };
    child.on('message', listener);
    child.once('exit', (code) => reject(new Error(`the child exited (code ${code}) before ready`)));
  });
  expect(ready.ready).toBe(store.dir);
  return { child, ask: (step, args = {}) => ask(child, step, args) };
}

type Ask = (step: string, args?: Record<string, unknown>) => Promise<unknown>;

/** Sends { do: step } and resolves with the child's result for it (rejects on its failure). */
function ask(child: ChildProcess, step: string, args: Record<string, unknown>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const listener = (message: {
      done?: string;
      failed?: string;
      result?: unknown;
      code?: string;
    }) => {
      if (message.done === step) resolve(message.result);
      else if (message.failed === step)
        reject(Object.assign(new Error(step), { code: message.code }));
      else return;
      child.off('message', listener);
    };
    child.on('message', listener);
    child.send({ do: step, ...args });
  });
}

/** The child's stdout, read to its end. */
async function stdoutOf(child: ChildProcess): Promise<string> {
  let text = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    text += chunk;
  });
  await once(child, 'exit');
  return text;
}

describe('shareStore / connectSharedStore', () => {
  it("shares one store: the child's writes are the parent's reads and the other way round", async () => {
    const store = await openStore();
    await store.set('parent:x', Buffer.from([0, 1, 254]));
    const { ask } = await forkChild(store);
    expect(await ask('read')).toBe('0001fe');
    expect(await ask('write', { n: 300 })).toBe(300);
    expect(await store.get('child:299')).toEqual(Buffer.from([299 % 256, 0, 255]));
    expect((await store.keys()).length).toBe(301);
  });

  it('pages range scans across the channel in order, forward and reverse', async () => {
    const store = await openStore();
    // More keys than one page (1,024), with neighbours outside the prefix on both sides.
    const keys = Array.from({ length: 2_500 }, (_, i) => `k:${String(i).padStart(5, '0')}`);
    await store.batch([
      ...keys.map((key) => ({ type: 'set' as const, key, value: 'v' })),
      { type: 'set', key: 'j', value: 'before' },
      { type: 'set', key: 'l', value: 'after' },
    ]);
    const { ask } = await forkChild(store);
    expect(await ask('range', { reverse: false })).toEqual(keys);
    expect(await ask('range', { reverse: true })).toEqual([...keys].reverse());
  });

  it('applies two children’s concurrent increments without losing one', async () => {
    const store = await openStore();
    const [a, b] = await Promise.all([forkChild(store), forkChild(store)]);
    const [fromA, fromB] = (await Promise.all([
      a.ask('incr', { n: 400 }),
      b.ask('incr', { n: 400 }),
    ])) as [string[], string[]];
    const all = [...fromA, ...fromB].map(Number).sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 800 }, (_, i) => i + 1));
    expect((await store.get('counter'))?.toString()).toBe('800');
  });

  it('leaves application messages on the same channel to the application', async () => {
    const store = await openStore();
    const { child } = await forkChild(store);
    const echoed = new Promise((resolve) => {
      child.on('message', (message: { echo?: unknown }) => {
        if (message.echo !== undefined) resolve(message);
      });
    });
    child.send({ echo: { kvdStoreLike: false, n: 7 } });
    expect(await echoed).toEqual({ echo: { kvdStoreLike: false, n: 7 } });
  });

  it("ends only the child's use on its close; the parent's store stays open", async () => {
    const store = await openStore();
    await store.set('parent:x', 'still here');
    const { ask } = await forkChild(store);
    expect(await ask('close')).toBe('KV_CLOSED');
    expect(store.isClosed).toBe(false);
    expect((await store.get('parent:x'))?.toString()).toBe('still here');
  });

  it("gives the child the store's own errors once the parent closed it", async () => {
    const store = await openStore();
    await store.set('parent:x', 'x');
    const { ask } = await forkChild(store);
    await store.close();
    await expect(ask('read')).rejects.toMatchObject({ code: 'KV_CLOSED' });
  });

  it('rejects calls with KV_INTERNAL once the channel to the parent is closed', async () => {
    const store = await openStore();
    const { child, ask } = await forkChild(store);
    expect(await ask('orphan')).toBe('waiting');
    const output = stdoutOf(child);
    child.disconnect();
    expect((await output).trim()).toBe('KV_INTERNAL');
  });

  it('refuses a channel without advanced serialization (bytes would arrive as JSON)', async () => {
    const store = await openStore();
    const child = fork(fixturePath('shared-store-child.mjs'), ['connect-only'], {
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    children.push(child);
    shareStore(store, child);
    expect((await stdoutOf(child)).trim()).toBe('KV_INVALID_ARGUMENT');
  });

  it('refuses something other than a Store and a channel with KV_INVALID_ARGUMENT', async () => {
    const store = await openStore();
    const child = fork(fixturePath('shared-store-child.mjs'), ['connect-only'], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    children.push(child);
    const refused = (call: () => unknown, message: string): void => {
      expect(call).toThrow(
        expect.objectContaining({
          code: 'KV_INVALID_ARGUMENT',
          message: expect.stringContaining(message),
        }),
      );
    };
    refused(() => shareStore(store, undefined as never), 'takes a channel to a child');
    refused(() => shareStore(store, {} as never), 'takes a channel to a child');
    refused(() => shareStore({} as Store, child), 'takes an open Store first');
    child.kill();
  });
});
