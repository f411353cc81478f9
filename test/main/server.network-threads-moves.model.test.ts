// Model test of clients moving between a daemon's threads, over real sockets: random sequences
// of requests sent one at a time (64 in a row hand a thread's client to the main thread, with
// `loneClients: 'always'`), in pipelines (16 in a row take a client handed back to a thread
// again), in transactions (with and without WATCH), around a subscription, and with values over
// 64 KiB, from clients that start on either thread; every reply is checked against a Map, and so
// is every key at the end. The moves happen wherever the sequence takes them, so a reply lost,
// doubled or out of order, or a write applied twice, shows.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommand, type RespClient } from '../fixtures/resp-client.js';
import { useTestServers } from '../fixtures/test-servers.js';

const tests = useTestServers();

const KEYS = ['a', 'b', 'c', 'd'];

type Op =
  | readonly ['GET' | 'EXISTS' | 'STRLEN' | 'DEL', string]
  | readonly ['SET' | 'APPEND', string, string]
  | readonly ['MGET', string, string];

type Step =
  | { readonly t: 'lone'; readonly ops: readonly Op[] }
  | { readonly t: 'pipelines'; readonly reads: readonly (readonly Op[])[] }
  | { readonly t: 'multi'; readonly watch: boolean; readonly ops: readonly Op[] }
  /** WATCH, pipelined reads, maybe another client's write of the watched key, then EXEC. */
  | { readonly t: 'watched'; readonly reads: readonly (readonly Op[])[]; readonly touch: boolean }
  | { readonly t: 'subscribe' };

const key = fc.constantFrom(...KEYS);
const value = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: fc.constantFrom('x', 'y', '1', ' '), maxLength: 12 }) },
  // Over 64 KiB: a network thread hands back a request it cannot yet see whole.
  { weight: 1, arbitrary: fc.integer({ min: 66_000, max: 70_000 }).map((n) => 'v'.repeat(n)) },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom('GET', 'EXISTS', 'STRLEN'), key) },
  { weight: 1, arbitrary: fc.tuple(fc.constant('DEL'), key) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom('SET', 'APPEND'), key, value) },
  { weight: 2, arbitrary: fc.tuple(fc.constant('MGET'), key, key) },
) as fc.Arbitrary<Op>;
const readOp: fc.Arbitrary<Op> = fc.tuple(
  fc.constantFrom('GET', 'EXISTS', 'STRLEN'),
  key,
) as fc.Arbitrary<Op>;
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('lone' as const),
      ops: fc.array(fc.oneof({ weight: 4, arbitrary: readOp }, op), { maxLength: 80 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('pipelines' as const),
      reads: fc.array(
        fc.array(fc.oneof({ weight: 4, arbitrary: readOp }, op), { minLength: 2, maxLength: 12 }),
        { maxLength: 40 },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('multi' as const),
      watch: fc.boolean(),
      ops: fc.array(op, { maxLength: 6 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'subscribe' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('watched' as const),
      reads: fc.array(fc.array(readOp, { minLength: 2, maxLength: 6 }), { maxLength: 40 }),
      touch: fc.boolean(),
    }),
  },
);

function bulk(v: string | undefined): string {
  return v === undefined ? '$-1\r\n' : `$${v.length}\r\n${v}\r\n`;
}

/** Applies `o` to `model` (keys unprefixed) and returns its reply as RESP2 bytes. */
function apply(model: Map<string, string>, o: Op): string {
  const k = o[1];
  switch (o[0]) {
    case 'GET':
      return bulk(model.get(k));
    case 'EXISTS':
      return `:${model.has(k) ? 1 : 0}\r\n`;
    case 'STRLEN':
      return `:${model.get(k)?.length ?? 0}\r\n`;
    case 'DEL': {
      const had = model.delete(k);
      return `:${had ? 1 : 0}\r\n`;
    }
    case 'SET':
      model.set(k, o[2]);
      return '+OK\r\n';
    case 'APPEND': {
      const next = (model.get(k) ?? '') + o[2];
      model.set(k, next);
      return `:${next.length}\r\n`;
    }
    case 'MGET':
      return `*2\r\n${bulk(model.get(k))}${bulk(model.get(o[2]))}`;
  }
}

/** `o` as a request, its keys under `prefix`. */
function request(prefix: string, o: Op): string[] {
  const [name, k, ...rest] = o;
  return name === 'MGET' ? [name, prefix + k, prefix + rest[0]!] : [name, prefix + k, ...rest];
}

/** Runs `s` on `client` (`admin` another client), checking every reply against `model`. */
async function run(
  client: RespClient,
  admin: RespClient,
  prefix: string,
  model: Map<string, string>,
  s: Step,
) {
  const raw = async (ops: readonly Op[]): Promise<void> => {
    client.send(Buffer.concat(ops.map((o) => encodeCommand(request(prefix, o)))));
    const expected = ops.map((o) => apply(model, o));
    for (const e of expected) expect((await client.reply()).raw).toBe(e);
  };
  switch (s.t) {
    case 'lone':
      for (const o of s.ops) await raw([o]);
      break;
    case 'pipelines':
      for (const ops of s.reads) await raw(ops);
      break;
    case 'multi': {
      if (s.watch) expect((await client.call('WATCH', `${prefix}a`)).raw).toBe('+OK\r\n');
      expect((await client.call('MULTI')).raw).toBe('+OK\r\n');
      for (const o of s.ops)
        expect((await client.call(...request(prefix, o))).raw).toBe('+QUEUED\r\n');
      const replies = s.ops.map((o) => apply(model, o)).join('');
      expect((await client.call('EXEC')).raw).toBe(`*${s.ops.length}\r\n${replies}`);
      break;
    }
    case 'watched': {
      expect((await client.call('WATCH', `${prefix}a`)).raw).toBe('+OK\r\n');
      for (const ops of s.reads) await raw(ops);
      if (s.touch) expect((await admin.call('SET', `${prefix}a`, 'admin')).raw).toBe('+OK\r\n');
      expect((await client.call('MULTI')).raw).toBe('+OK\r\n');
      expect((await client.call('SET', `${prefix}b`, 'w')).raw).toBe('+QUEUED\r\n');
      // Another client's write of the watched key aborts the transaction.
      expect((await client.call('EXEC')).raw).toBe(s.touch ? '*-1\r\n' : '*1\r\n+OK\r\n');
      model.set(s.touch ? 'a' : 'b', s.touch ? 'admin' : 'w');
      break;
    }
    case 'subscribe':
      expect((await client.call('SUBSCRIBE', `${prefix}ch`)).raw).toMatch(/^\*3\r\n/);
      expect((await client.call('UNSUBSCRIBE', `${prefix}ch`)).raw).toMatch(/^\*3\r\n/);
      break;
  }
}

/** The thread (CLIENT LIST's io-thread) of each client, by id. */
async function threads(admin: RespClient): Promise<Map<number, number>> {
  const list = await admin.call('CLIENT', 'LIST');
  if (list.type !== 'bulk') throw new Error(list.raw);
  const found = new Map<number, number>();
  for (const m of list.value.toString().matchAll(/^id=(\d+) .* io-thread=(\d+)$/gm))
    found.set(Number(m[1]), Number(m[2]));
  return found;
}

describe('clients moving between the threads', () => {
  it('answer every request as a Map does, wherever they are served', async () => {
    const server = await tests.serve({ networkThreads: 2, loneClients: 'always' });
    const admin = await tests.connect(server.port);
    let runs = 0;
    let handedBack = 0;
    let returned = 0;
    const lone = (n: number): Step => ({
      t: 'lone',
      ops: Array.from({ length: n }, () => ['GET', 'a'] as const),
    });
    const watchedReads = (n: number): Step => ({
      t: 'watched',
      reads: Array.from({ length: n }, () => [['GET', 'a'] as const, ['GET', 'c'] as const]),
      touch: true,
    });
    const pipelined = (n: number): Step => ({
      t: 'pipelines',
      reads: Array.from({ length: n }, () => [
        ['SET', 'a', 'x'] as const,
        ['GET', 'a'] as const,
        ['GET', 'b'] as const,
      ]),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 10 }), async (steps) => {
        const prefix = `r${runs++}:`;
        // Each run's client takes the next turn: the main thread's or the network thread's.
        const before = await threads(admin);
        const client = await tests.connect(server.port);
        const id = Math.max(...[...(await threads(admin)).keys()].filter((i) => !before.has(i)));
        const model = new Map<string, string>();
        let at = (await threads(admin)).get(id);
        for (const s of steps) {
          await run(client, admin, prefix, model, s);
          const now = (await threads(admin)).get(id);
          if (now === 0 && at === 1) handedBack++;
          if (now === 1 && at === 0) returned++;
          at = now;
        }
        const stored = await admin.call('MGET', ...KEYS.map((k) => prefix + k));
        expect(stored.raw).toBe(
          `*${KEYS.length}\r\n${KEYS.map((k) => bulk(model.get(k))).join('')}`,
        );
        client.close();
      }),
      {
        numRuns: 40,
        // Moves both ways, and back again, from either thread.
        // Each run's client takes the next turn, the admin having had the main thread's: the
        // examples' clients start on the network thread, the main thread's and so on.
        examples: [
          // Moves both ways, and back again.
          [[lone(70), pipelined(20), lone(70), pipelined(40)]],
          [[lone(70), pipelined(20)]],
          // Pipelined reads while it watches a key: it must stay, or the watch is lost.
          [[lone(66), watchedReads(20)]],
          [[lone(1)]],
          [[lone(66), { t: 'multi', watch: true, ops: [['SET', 'b', 'y']] }, pipelined(20)]],
        ],
      },
    );
    // The examples alone move clients both ways.
    expect(handedBack).toBeGreaterThanOrEqual(4);
    expect(returned).toBeGreaterThanOrEqual(3);
  });
});
