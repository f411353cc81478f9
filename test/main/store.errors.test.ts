// The Store API's error contract, asserted by stable code: size limits (and the store keeps
// working after), argument types, options, use after close, the directory lock (same process,
// another process, and after kill -9), plus the edge values that are not errors: empty keys
// and values, deleting a missing key, expiry.

import { afterEach, describe, expect, it } from 'vitest';
import { type BatchOp, type Bytes, Store, type StoreOptions } from '../../dist/main/index.js';
import { ChildLines, fixturePath } from '../fixtures/child-lines.js';
import { expectFailsWith, expectRejectsWith, expectThrowsWith } from '../fixtures/kv-errors.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const BASE: StoreOptions = { readers: 1, durability: 'no' };

/** Opens a store on a fresh dir, runs `body`, and always closes it. */
async function withStore(
  options: StoreOptions,
  body: (store: Store, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await makeTempDir('errors');
  const store = await Store.open(dir, options);
  try {
    await body(store, dir);
  } finally {
    await store.close();
  }
}

/** Bypasses the static types, as a JavaScript caller could. */
function untyped<T>(value: unknown): T {
  return value as T;
}

describe('Store errors', () => {
  afterEach(removeTempDirs);

  it('rejects oversized keys with KV_KEY_TOO_LARGE on every method, and keeps working', async () => {
    await withStore({ ...BASE, maxKeyBytes: 16 }, async (store) => {
      const big = 'k'.repeat(17);
      const bigBytes = new Uint8Array(17);
      // 6 UTF-16 code units, 18 UTF-8 bytes: the limit counts bytes.
      const bigUtf8 = 'ключей';
      expect(Buffer.byteLength(bigUtf8)).toBe(12);
      const bigUtf8b = '鍵鍵鍵鍵鍵鍵';
      expect(Buffer.byteLength(bigUtf8b)).toBe(18);
      for (const key of [big, bigBytes, bigUtf8b]) {
        await expectRejectsWith(store.set(key, 'v'), 'KV_KEY_TOO_LARGE');
        await expectRejectsWith(store.get(key), 'KV_KEY_TOO_LARGE');
        expectThrowsWith(() => store.getSync(key), 'KV_KEY_TOO_LARGE');
        await expectRejectsWith(store.getMany(['ok', key]), 'KV_KEY_TOO_LARGE');
        await expectRejectsWith(store.has(key), 'KV_KEY_TOO_LARGE');
        await expectRejectsWith(store.delete(key), 'KV_KEY_TOO_LARGE');
        await expectRejectsWith(
          store.batch([
            { type: 'set', key: 'ok', value: 'v' },
            { type: 'set', key, value: 'v' },
          ]),
          'KV_KEY_TOO_LARGE',
        );
        await expectRejectsWith(store.batch([{ type: 'delete', key }]), 'KV_KEY_TOO_LARGE');
      }
      // Exactly at the limit is fine, as bytes, ASCII or multi-byte text.
      await store.set('k'.repeat(16), 'at-limit');
      await store.set(new Uint8Array(16).fill(7), 'bytes-at-limit');
      await store.set('鍵鍵鍵鍵鍵', 'utf8-15-bytes');
      await store.set(bigUtf8, 'utf8-12-bytes');
      expect(store.getSync('k'.repeat(16))?.toString()).toBe('at-limit');
      expect((await store.get(new Uint8Array(16).fill(7)))?.toString()).toBe('bytes-at-limit');
      expect((await store.get('鍵鍵鍵鍵鍵'))?.toString()).toBe('utf8-15-bytes');
      // The rejected batch left nothing behind.
      expect(await store.has('ok')).toBe(false);
      expect((await store.stats()).keys).toBe(4);
    });
  });

  it('rejects oversized values with KV_VALUE_TOO_LARGE, in set and batch, and keeps working', async () => {
    await withStore({ ...BASE, maxValueBytes: 64 }, async (store) => {
      await store.set('before', 'x'.repeat(64));
      await expectRejectsWith(store.set('k', 'x'.repeat(65)), 'KV_VALUE_TOO_LARGE');
      await expectRejectsWith(store.set('k', new Uint8Array(65)), 'KV_VALUE_TOO_LARGE');
      await expectRejectsWith(store.set('k', 'é'.repeat(33)), 'KV_VALUE_TOO_LARGE'); // 66 bytes
      await expectRejectsWith(
        store.batch([
          { type: 'set', key: 'b1', value: 'fine' },
          { type: 'set', key: 'b2', value: 'y'.repeat(100) },
        ]),
        'KV_VALUE_TOO_LARGE',
      );
      // A rejected write issued in the same tick as good ones does not take them down.
      const [good, bad, alsoGood] = await Promise.allSettled([
        store.set('same-tick-1', 'ok'),
        store.set('same-tick-2', 'z'.repeat(65)),
        store.set('same-tick-3', 'ok'),
      ]);
      expect(good.status).toBe('fulfilled');
      expect(bad.status).toBe('rejected');
      expect(alsoGood.status).toBe('fulfilled');
      expect(await store.getMany(['k', 'b1', 'b2', 'same-tick-2'])).toEqual([
        undefined,
        undefined,
        undefined,
        undefined,
      ]);
      await store.set('after', 'still works');
      expect(store.getSync('after')?.toString()).toBe('still works');
      expect((await store.get('before'))?.toString()).toBe('x'.repeat(64));
      expect((await store.stats()).keys).toBe(4);
    });
  });

  it('rejects keys and values that are not strings or bytes with KV_INVALID_ARGUMENT', async () => {
    await withStore(BASE, async (store) => {
      const badKeys = [42, null, undefined, {}, ['a'], true, Symbol('k'), 10n];
      for (const raw of badKeys) {
        const key = untyped<Bytes>(raw);
        const label = `${typeof raw} key: `;
        await expectFailsWith(() => store.set(key, 'v'), 'KV_INVALID_ARGUMENT', label);
        await expectFailsWith(() => store.get(key), 'KV_INVALID_ARGUMENT', label);
        expectThrowsWith(() => store.getSync(key), 'KV_INVALID_ARGUMENT', label);
        await expectFailsWith(() => store.has(key), 'KV_INVALID_ARGUMENT', label);
        await expectFailsWith(() => store.delete(key), 'KV_INVALID_ARGUMENT', label);
        await expectFailsWith(() => store.getMany([key]), 'KV_INVALID_ARGUMENT', label);
        await expectFailsWith(
          () => store.batch([{ type: 'delete', key }]),
          'KV_INVALID_ARGUMENT',
          label,
        );
      }
      for (const raw of [42, null, undefined, {}, [1, 2]]) {
        await expectFailsWith(
          () => store.set('k', untyped<Bytes>(raw)),
          'KV_INVALID_ARGUMENT',
          `${String(raw)} value: `,
        );
        await expectFailsWith(
          () => store.batch([{ type: 'set', key: 'k', value: untyped<Bytes>(raw) }]),
          'KV_INVALID_ARGUMENT',
          `${String(raw)} value in a batch: `,
        );
      }
      await expectFailsWith(
        () => store.getMany(untyped<Bytes[]>('not-an-array')),
        'KV_INVALID_ARGUMENT',
      );
      await expectFailsWith(() => store.batch(untyped<BatchOp[]>({})), 'KV_INVALID_ARGUMENT');
      await expectFailsWith(
        () => store.batch([untyped<BatchOp>({ type: 'put', key: 'k', value: 'v' })]),
        'KV_INVALID_ARGUMENT',
      );
      await expectFailsWith(() => store.batch([untyped<BatchOp>(null)]), 'KV_INVALID_ARGUMENT');
      for (const expiresAt of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
        await expectFailsWith(
          () => store.set('k', 'v', { expiresAt }),
          'KV_INVALID_ARGUMENT',
          `expiresAt ${expiresAt}: `,
        );
      }
      // None of it was written; the store still works.
      expect((await store.stats()).keys).toBe(0);
      await store.set('k', 'v');
      expect(store.getSync('k')?.toString()).toBe('v');
    });
  });

  it("rejects a write method's unknown option or a bad callback with KV_INVALID_ARGUMENT, writing nothing", async () => {
    await withStore(BASE, async (store) => {
      const refused: [Promise<unknown>, string][] = [
        [
          store.set('k', 'v', untyped({ ttl: 1000 })),
          'unknown set option ttl (the options are expiresAt)',
        ],
        [store.setWith('k', 'v', untyped({ nx: true })), 'unknown setWith option nx'],
        [store.set('k', 'v', untyped('soon')), 'set options must be an object'],
        [
          store.batch([{ type: 'set', key: 'k', value: 'v' }], untyped({ ifVersion: [] })),
          'unknown batch option ifVersion',
        ],
        [store.compact(untyped({ onProgress: () => {} })), 'compact takes a progress callback'],
        [store.watchChanges(untyped('listener')), 'watchChanges takes a listener function'],
      ];
      for (const [promise, message] of refused) {
        const error = await expectRejectsWith(promise, 'KV_INVALID_ARGUMENT', `${message}: `);
        expect(error.message).toContain(message);
      }
      expect(store.getSync('k')).toBeUndefined();
      await store.set('k', 'v', { expiresAt: Date.now() + 60_000 });
      expect(store.expirySync('k')).toBeGreaterThan(Date.now());
    });
  });

  it('rejects invalid options or a directory that is not a non-empty string with KV_INVALID_ARGUMENT, leaving the directory unlocked', async () => {
    const dir = await makeTempDir('options');
    const bad: Record<string, unknown>[] = [
      { durability: 'sometimes' },
      { readers: 0 },
      { readers: 1.5 },
      { readers: 1000 },
      { segmentBytes: 100 },
      { segmentBytes: Number.NaN },
      { segmentBytes: 2 ** 40 },
      { maxKeyBytes: -1 },
      { maxKeyBytes: 2 ** 30 },
      { maxValueBytes: 2 ** 31 },
      { maxValueBytes: '1000' },
      { hashBits: 0 },
      { hashBits: 33 },
      { readMode: 'mmapped' },
    ];
    for (const options of bad) {
      await expectRejectsWith(
        Store.open(dir, untyped<StoreOptions>(options)),
        'KV_INVALID_ARGUMENT',
        `${JSON.stringify(options)}: `,
      );
    }
    for (const where of ['', 5, undefined]) {
      await expectRejectsWith(
        Store.open(untyped<string>(where), BASE),
        'KV_INVALID_ARGUMENT',
        `Store.open(${String(where)}): `,
      );
    }
    const store = await Store.open(dir, BASE);
    await store.close();
  });

  it('reads through memory maps by default (the native addon is built by npm ci), and with pread when asked', async () => {
    const dir = await makeTempDir('read-mode');
    const written: string[] = [];
    for (const readMode of [undefined, 'pread', 'mmap'] as const) {
      const store = await Store.open(dir, { ...BASE, ...(readMode ? { readMode } : {}) });
      try {
        expect((await store.stats()).readMode).toBe(readMode ?? 'mmap');
        written.push(String(readMode));
        await store.set(`k-${readMode}`, `v-${readMode}`);
        // Every value written so far (before a reopen, or just now) reads back in this mode.
        for (const mode of written)
          expect(store.getSync(`k-${mode}`)?.toString()).toBe(`v-${mode}`);
        const many = await store.getMany([...written.map((m) => `k-${m}`), 'absent']);
        expect(many.map((v) => v?.toString())).toEqual([
          ...written.map((m) => `v-${m}`),
          undefined,
        ]);
      } finally {
        await store.close();
      }
    }
  });

  it('every method throws KV_CLOSED after close; close is idempotent', async () => {
    const dir = await makeTempDir('closed');
    const store = await Store.open(dir, BASE);
    await store.set('k', 'v');
    const first = store.close();
    const second = store.close();
    await Promise.all([first, second]);
    await store.close();
    expect(store.isClosed).toBe(true);
    const calls: [string, () => unknown][] = [
      ['set', () => store.set('k', 'v')],
      ['get', () => store.get('k')],
      ['getMany', () => store.getMany(['k'])],
      ['has', () => store.has('k')],
      ['delete', () => store.delete('k')],
      ['batch', () => store.batch([{ type: 'set', key: 'k', value: 'v' }])],
      ['flush', () => store.flush()],
      ['stats', () => store.stats()],
    ];
    for (const [name, call] of calls) await expectFailsWith(call, 'KV_CLOSED', `${name}: `);
    expectThrowsWith(() => store.getSync('k'), 'KV_CLOSED');
    // Even with arguments that would otherwise be invalid, the closed state is reported first.
    expectThrowsWith(() => store.getSync(untyped<Bytes>(42)), 'KV_CLOSED');
    // Writes issued in the same tick as close are either done before it or rejected.
    const again = await Store.open(dir, BASE);
    const racing = again.set('racing', 'v');
    await again.close();
    await racing;
    const check = await Store.open(dir, BASE);
    try {
      expect(check.getSync('racing')?.toString()).toBe('v');
    } finally {
      await check.close();
    }
  });

  it('a second open of the same directory in the same process fails with KV_LOCKED', async () => {
    const dir = await makeTempDir('lock');
    const first = await Store.open(dir, BASE);
    try {
      await expectRejectsWith(Store.open(dir, BASE), 'KV_LOCKED');
      // Through another spelling of the same path, too.
      await expectRejectsWith(Store.open(`${dir}/./`, BASE), 'KV_LOCKED');
      // The failed open did not disturb the holder.
      await first.set('k', 'v');
      expect(first.getSync('k')?.toString()).toBe('v');
    } finally {
      await first.close();
    }
    const next = await Store.open(dir, BASE);
    expect(next.getSync('k')?.toString()).toBe('v');
    await next.close();
  });

  it('another process gets KV_LOCKED while a store is open; kill -9 of the holder frees the lock', async () => {
    const dir = await makeTempDir('lock-proc');
    const script = fixturePath('open-store.mjs');

    // This process holds it: the child is refused.
    const mine = await Store.open(dir, BASE);
    try {
      const child = new ChildLines(process.execPath, [script, 'try', dir]);
      expect(await child.expectLine()).toBe('error KV_LOCKED');
      expect((await child.exited).code).toBe(0);
    } finally {
      await mine.close();
    }

    // A child holds it: this process is refused, until the child is killed with SIGKILL.
    const holder = new ChildLines(process.execPath, [script, 'hold', dir]);
    try {
      expect(await holder.expectLine()).toBe('opened');
      await expectRejectsWith(Store.open(dir, BASE), 'KV_LOCKED');
      holder.kill('SIGKILL');
      expect((await holder.exited).signal).toBe('SIGKILL');
    } finally {
      holder.kill('SIGKILL');
    }
    const after = await Store.open(dir, BASE);
    try {
      expect(after.getSync('held')?.toString()).toMatch(/^by \d+$/);
    } finally {
      await after.close();
    }

    // A child that closes cleanly (stdin ends) also frees it.
    const polite = new ChildLines(process.execPath, [script, 'hold', dir]);
    try {
      expect(await polite.expectLine()).toBe('opened');
      polite.child.stdin!.end();
      expect(await polite.expectLine()).toBe('closed');
      expect((await polite.exited).code).toBe(0);
    } finally {
      polite.kill('SIGKILL');
    }
    const last = new ChildLines(process.execPath, [script, 'try', dir]);
    expect(await last.expectLine()).toBe('opened');
    await last.exited;
  });
});

describe('Store edge values', () => {
  afterEach(removeTempDirs);

  it('the empty key and the empty value are valid and round-trip, also across reopen', async () => {
    const dir = await makeTempDir('empty');
    let store = await Store.open(dir, BASE);
    try {
      await store.set('', '');
      await store.set('empty-value', new Uint8Array(0));
      const check = async (when: string) => {
        for (const key of ['', new Uint8Array(0)]) {
          const sync = store.getSync(key);
          expect(sync, `${when}: getSync`).toBeInstanceOf(Uint8Array);
          expect(sync!.length, when).toBe(0);
          const pooled = await store.get(key);
          expect(pooled, `${when}: get`).toBeInstanceOf(Uint8Array);
          expect(pooled!.length, when).toBe(0);
          expect(await store.has(key), `${when}: has`).toBe(true);
        }
        const many = await store.getMany(['', 'empty-value', 'missing']);
        expect(many.map((v) => v?.length)).toEqual([0, 0, undefined]);
        expect((await store.stats()).keys).toBe(2);
      };
      await check('before reopen');
      await store.close();
      store = await Store.open(dir, BASE);
      await check('after reopen');
      expect(await store.delete('')).toBe(true);
      expect(store.getSync('')).toBeUndefined();
      expect(await store.has('')).toBe(false);
    } finally {
      await store.close();
    }
  });

  it('delete of a missing key resolves false, of a live key true', async () => {
    await withStore(BASE, async (store) => {
      expect(await store.delete('never')).toBe(false);
      await store.set('k', 'v');
      expect(await store.delete('k')).toBe(true);
      expect(await store.delete('k')).toBe(false);
      // Issued in one tick: the second sees the first's effect.
      await store.set('k', 'v');
      expect(await Promise.all([store.delete('k'), store.delete('k')])).toEqual([true, false]);
      expect((await store.stats()).keys).toBe(0);
    });
  });

  it('a key whose expiresAt has passed reads as absent everywhere, also after reopen', async () => {
    const dir = await makeTempDir('expiry');
    let store = await Store.open(dir, BASE);
    try {
      const past = Date.now() - 1000;
      const future = Date.now() + 3_600_000;
      await store.set('expired', 'gone', { expiresAt: past });
      await store.set('fresh', 'here', { expiresAt: future });
      await store.set('forever', 'here', { expiresAt: 0 });
      await store.set('overwritten', 'old');
      await store.set('overwritten', 'new-but-expired', { expiresAt: 1 });
      const check = async (when: string) => {
        for (const key of ['expired', 'overwritten']) {
          expect(store.getSync(key), `${when}: getSync ${key}`).toBeUndefined();
          expect(await store.get(key), `${when}: get ${key}`).toBeUndefined();
          expect(await store.has(key), `${when}: has ${key}`).toBe(false);
        }
        expect((await store.getMany(['expired', 'fresh', 'forever'])).map(String)).toEqual([
          'undefined',
          'here',
          'here',
        ]);
      };
      await check('before reopen');
      await store.close();
      store = await Store.open(dir, BASE);
      await check('after reopen');
    } finally {
      await store.close();
    }
  });
});
