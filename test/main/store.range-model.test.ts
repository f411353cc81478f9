// Model test of range scans and snapshots: random writes (sets, deletes, batches, groups issued
// in one tick, keys set already expired), compactions and reopens, interleaved with rangeSync
// and range calls with random bounds (gt/gte/lt/lte), prefixes, reverse, limits and keys-only,
// and with snapshots taken, read (ranges and gets, checked against the model as it was when
// each was taken) and released mid-run, on a real store with tiny segments (so key runs,
// merged runs and the memtable all take part), checked against a Map sorted by the keys' UTF-8
// bytes. Both read modes.

import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type Compression,
  type RangeOptions,
  type ReadMode,
  type Snapshot,
  Store,
} from '../../dist/main/index.js';
import { modelWrites, type Value, type WriteCmd } from '../fixtures/model-writes.js';
import { makeTempDir, removeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

/** Keys with shared prefixes, bytes above 0x7f, an empty key and a NUL inside one. */
const KEYS = [
  '',
  'a',
  'a\u0000',
  'a\u0000b',
  'ab',
  'abc',
  'abd',
  'ab\u00ff',
  'b',
  'ba',
  'user:1',
  'user:10',
  'user:2',
  'user:2:name',
  'usez',
  'é',
  'éa',
  'ключ',
  '鍵🔑',
  '\u007f',
  'z'.repeat(70),
  'zz',
];
const BOUNDS = [...KEYS, 'a\u0000a', 'aa', 'user:', 'user:1~', 'ж', '\u00ff', 'zzz'];
const PREFIXES = ['', 'a', 'ab', 'a\u0000', 'user:', 'user:2', 'é', 'z', 'q'];

const value: fc.Arbitrary<Value> = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.uint8Array({ maxLength: 300 }),
  fc.uint8Array({ minLength: 1500, maxLength: 2500 }),
  // Compressible: stored compressed by a merge under 'lz4' or 'zstd' (point-value.ts).
  fc
    .tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.integer({ min: 10, max: 200 }))
    .map(([unit, times]) => unit.repeat(times)),
);
const { keyRef, writeCmd, batchCmd, keyOf, modelKey, toBatchOp, applyToModel } = modelWrites(
  KEYS,
  value,
  6,
);

const rangeOptions: fc.Arbitrary<RangeOptions> = fc
  .record(
    {
      low: fc.option(fc.tuple(fc.constantFrom(...BOUNDS), fc.boolean()), { nil: undefined }),
      high: fc.option(fc.tuple(fc.constantFrom(...BOUNDS), fc.boolean()), { nil: undefined }),
      prefix: fc.option(fc.constantFrom(...PREFIXES), { nil: undefined }),
      reverse: fc.boolean(),
      limit: fc.option(fc.nat(8), { nil: undefined }),
      values: fc.boolean(),
      asBytes: fc.boolean(),
    },
    { requiredKeys: ['reverse', 'values', 'asBytes'] },
  )
  .map((r) => {
    const b = (s: string) => (r.asBytes ? new Uint8Array(Buffer.from(s, 'utf8')) : s);
    const o: Record<string, unknown> = { reverse: r.reverse, values: r.values };
    if (r.low) o[r.low[1] ? 'gte' : 'gt'] = b(r.low[0]);
    if (r.high) o[r.high[1] ? 'lte' : 'lt'] = b(r.high[0]);
    if (r.prefix !== undefined) o.prefix = b(r.prefix);
    if (r.limit !== undefined) o.limit = r.limit;
    return o as RangeOptions;
  });

type Cmd =
  | WriteCmd
  | { readonly t: 'batch'; readonly ops: readonly WriteCmd[] }
  | { readonly t: 'group'; readonly ops: readonly WriteCmd[] }
  | { readonly t: 'expired'; readonly key: typeof keyRef extends fc.Arbitrary<infer K> ? K : never }
  | { readonly t: 'range' | 'rangeAsync'; readonly options: RangeOptions }
  | { readonly t: 'snapRange'; readonly which: number; readonly options: RangeOptions }
  | { readonly t: 'compact' | 'reopen' | 'snap' | 'release' };

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: writeCmd },
  { weight: 2, arbitrary: batchCmd },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('group' as const),
      ops: fc.array(writeCmd, { minLength: 2, maxLength: 6 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('expired' as const), key: keyRef }) },
  {
    weight: 5,
    arbitrary: fc.record({
      t: fc.constantFrom<'range' | 'rangeAsync'>('range', 'rangeAsync'),
      options: rangeOptions,
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'compact' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'snap' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'release' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('snapRange' as const),
      which: fc.nat(3),
      options: rangeOptions,
    }),
  },
);

const bytesOf = (k: string | Uint8Array | undefined) =>
  k === undefined ? undefined : Buffer.from(typeof k === 'string' ? Buffer.from(k, 'utf8') : k);

/** What the model says `options` must return: [key bytes, value] in order. */
function expected(model: Map<string, Buffer>, options: RangeOptions): [Buffer, Buffer][] {
  const gt = bytesOf(options.gt);
  const gte = bytesOf(options.gte);
  const lt = bytesOf(options.lt);
  const lte = bytesOf(options.lte);
  const prefix = bytesOf(options.prefix);
  let entries = [...model.entries()]
    .map(([hex, v]) => [Buffer.from(hex, 'hex'), v] as [Buffer, Buffer])
    .filter(
      ([k]) =>
        (!gt || Buffer.compare(k, gt) > 0) &&
        (!gte || Buffer.compare(k, gte) >= 0) &&
        (!lt || Buffer.compare(k, lt) < 0) &&
        (!lte || Buffer.compare(k, lte) <= 0) &&
        (!prefix || k.subarray(0, prefix.length).equals(prefix)),
    )
    .sort(([a], [b]) => Buffer.compare(a, b));
  if (options.reverse) entries.reverse();
  if (options.limit !== undefined) entries = entries.slice(0, options.limit);
  return entries;
}

function check(
  got: readonly { key: Buffer; value?: Buffer }[],
  want: readonly [Buffer, Buffer][],
  options: RangeOptions,
  at: string,
) {
  const show = (k: Buffer) => k.toString('hex');
  expect(
    got.map((e) => show(e.key)),
    `${at}: keys`,
  ).toEqual(want.map(([k]) => show(k)));
  got.forEach((e, i) => {
    if (options.values === false) expect(e.value, `${at}: keys only`).toBeUndefined();
    else expect(Buffer.from(e.value!).equals(want[i]![1]), `${at}: value #${i}`).toBe(true);
  });
}

async function run(
  readMode: ReadMode,
  compression: Compression,
  cmds: readonly Cmd[],
): Promise<void> {
  const dir = await makeTempDir('range-model');
  const options = {
    readMode,
    compression,
    readers: 1,
    segmentBytes: 4096,
    compaction: { auto: false },
  };
  const model = new Map<string, Buffer>();
  let store = await Store.open(dir, options);
  /** Snapshots held, each with a copy of the model when it was taken. */
  let held: { snapshot: Snapshot; model: Map<string, Buffer> }[] = [];
  /** Compactions waiting for snapshots to be released. */
  let waiting: Promise<unknown>[] = [];
  try {
    for (const [step, c] of cmds.entries()) {
      const at = `step ${step} (${c.t})`;
      switch (c.t) {
        case 'set':
          await store.set(keyOf(c.key), c.value);
          applyToModel(model, c);
          break;
        case 'delete':
          await store.delete(keyOf(c.key));
          applyToModel(model, c);
          break;
        case 'batch':
          await store.batch(c.ops.map(toBatchOp));
          for (const op of c.ops) applyToModel(model, op);
          break;
        case 'group':
          await Promise.all(
            c.ops.map((op) =>
              op.t === 'set' ? store.set(keyOf(op.key), op.value) : store.delete(keyOf(op.key)),
            ),
          );
          for (const op of c.ops) applyToModel(model, op);
          break;
        case 'expired':
          await store.set(keyOf(c.key), 'gone', { expiresAt: 1 });
          model.delete(modelKey(c.key));
          break;
        case 'range':
          check([...store.rangeSync(c.options)], expected(model, c.options), c.options, at);
          break;
        case 'rangeAsync': {
          const got: { key: Buffer; value?: Buffer }[] = [];
          for await (const e of store.range(c.options)) got.push(e);
          check(got, expected(model, c.options), c.options, at);
          break;
        }
        case 'compact': {
          const compaction = store.compact();
          if (held.length === 0) await compaction;
          // Settled as a value, so a close meanwhile (KV_CLOSED) is not an unhandled rejection.
          else
            waiting.push(
              compaction.then(
                () => undefined,
                (error: unknown) => error,
              ),
            );
          break;
        }
        case 'reopen':
          await store.close(); // releases the snapshots; waiting compactions end (KV_CLOSED)
          await Promise.all(waiting);
          [held, waiting] = [[], []];
          store = await Store.open(dir, options);
          break;
        case 'snap':
          if (held.length < 3) held.push({ snapshot: store.snapshot(), model: new Map(model) });
          break;
        case 'release':
          held.shift()?.snapshot.release();
          if (held.length === 0) {
            const results = await Promise.all(waiting.splice(0));
            for (const result of results) expect(result, `${at}: a compaction`).toBeUndefined();
          }
          break;
        case 'snapRange': {
          const h = held[c.which % Math.max(1, held.length)];
          if (!h) break;
          check([...h.snapshot.rangeSync(c.options)], expected(h.model, c.options), c.options, at);
          for (const [hex, v] of h.model) {
            const k = Buffer.from(hex, 'hex');
            expect(h.snapshot.getSync(k)?.equals(v), `${at}: snapshot get`).toBe(true);
          }
          break;
        }
      }
    }
    for (const h of held.splice(0)) h.snapshot.release();
    for (const result of await Promise.all(waiting.splice(0))) expect(result).toBeUndefined();
    const all = [...model.keys()].map((hex) => Buffer.from(hex, 'hex'));
    all.sort(Buffer.compare);
    expect((await store.keys()).map((k) => k.toString('hex'))).toEqual(
      all.map((k) => k.toString('hex')),
    );
  } finally {
    await store.close();
    await removeTempDir(dir);
  }
}

describe('range scans against a sorted model', () => {
  afterEach(removeTempDirs);

  it.each<[ReadMode, Compression]>([
    ['pread', 'none'],
    ['mmap', 'lz4'],
  ])(
    'rangeSync and range return exactly the model’s entries (readMode %s, compression %s)',
    async (readMode, compression) => {
      await fc.assert(
        fc.asyncProperty(fc.array(cmd, { minLength: 5, maxLength: 60 }), (cmds) =>
          run(readMode, compression, cmds),
        ),
        { numRuns: 25 },
      );
    },
    240_000,
  );
});
