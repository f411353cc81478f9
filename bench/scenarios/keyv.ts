// Scenario "keyv": Keyv 5 `set` and `get` through three storage adapters, the same keys and
// values for each: KeyvKvd (kvd/keyv) on an in-process store, @keyv/redis on a local
// redis-server, @keyv/sqlite on a file database. In each round every engine in turn sets every
// key (64 in flight) then gets every key (64 in flight, each must come back whole); the rate is
// operations ÷ the whole elapsed time, and a figure is the median of REPETITIONS rounds after
// one untimed warm-up round.

import { join } from 'node:path';
import KeyvRedis from '@keyv/redis';
import KeyvSqlite from '@keyv/sqlite';
import { Keyv } from 'keyv';
import { Store } from '../../src/main/index.js';
import { KeyvKvd } from '../../src/main/keyv/index.js';
import { hitKey, prng } from '../lib/dataset.js';
import { pipeline } from '../lib/pipeline.js';
import {
  hasCommand,
  type RunningServer,
  startRedisServer,
  stopServers,
} from '../lib/redis-server.js';
import type { Engine, Figure } from '../lib/results.js';
import { figureId, type Scenario } from '../lib/scenario.js';
import { median } from '../lib/stats.js';

/** Keys set and read per repetition (fewer if --keys is smaller). */
const MAX_KEYS = 20_000;
/** Characters of every value (Keyv serializes it as `{"value":"…"}`). */
const VALUE_CHARS = 100;
/** Keyv calls kept outstanding. */
const IN_FLIGHT = 64;
/** Timed rounds (after one untimed warm-up round). */
const REPETITIONS = 5;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** One adapter under test: its Keyv, and what ends it. */
interface Subject {
  readonly engine: Engine;
  readonly name: string;
  readonly keyv: Keyv<string>;
  readonly close: () => Promise<void>;
}

export const scenario: Scenario = {
  id: 'keyv',
  title: 'Keyv get/set: KeyvKvd vs @keyv/redis and @keyv/sqlite',
  async run({ config, temp }, out) {
    const count = Math.min(config.keys, MAX_KEYS);
    const keys = Array.from({ length: count }, (_, i) => hitKey(i));
    const values = randomValues(count);
    const setOrder = shuffled(count, 1);
    const getOrder = shuffled(count, 2);
    const redis = hasCommand('redis-server') && hasCommand('redis-cli');
    if (!redis) {
      out.note('@keyv/redis skipped: redis-server or redis-cli is not installed');
    }
    const servers: RunningServer[] = [];
    const subjects: Subject[] = [];
    const figures = new Map<string, Figure>();
    try {
      subjects.push(await kvdSubject(temp.dir('keyv-kvd'), config.readers));
      if (redis) {
        const server = await startRedisServer(temp.dir('keyv-redis'));
        servers.push(server);
        subjects.push(redisSubject(server.port));
      }
      subjects.push(await sqliteSubject(join(temp.dir('keyv-sqlite'), 'keyv.db')));

      // Rounds run every engine in turn, so a change in the machine's load hits them alike.
      const rates = subjects.map(() => ({ set: [] as number[], get: [] as number[] }));
      for (let round = 0; round <= REPETITIONS; round++) {
        for (const [s, subject] of subjects.entries()) {
          const set = await timed(count, (n) => {
            const i = setOrder[n]!;
            return subject.keyv.set(keys[i]!, values[i]!);
          });
          const get = await timed(count, async (n) => {
            const i = getOrder[n]!;
            const value = await subject.keyv.get(keys[i]!);
            if (value !== values[i]) throw new Error(`${subject.name}: wrong value for ${keys[i]}`);
          });
          if (round === 0) continue; // warm-up: the first set inserts, later ones overwrite
          rates[s]!.set.push(count / set);
          rates[s]!.get.push(count / get);
        }
      }
      for (const [s, subject] of subjects.entries()) {
        for (const op of ['set', 'get'] as const) {
          const r = rates[s]![op];
          const figure = out.value(
            {
              id: figureId('keyv', undefined, subject.engine, op),
              label: `Keyv ${op} via ${subject.name}`,
              engine: subject.engine,
              unit: op === 'set' ? 'writes/s' : 'reads/s',
              better: 'higher',
              how:
                `${count.toLocaleString('en-US')} keys × ${VALUE_CHARS} B values, ${IN_FLIGHT} in flight, ` +
                `median of ${REPETITIONS} rounds (range ${range(r)})`,
            },
            median(r),
            r.length,
          );
          figures.set(`${subject.engine}.${op}`, figure);
        }
      }
    } finally {
      for (const subject of subjects) await subject.close();
      await stopServers(servers);
    }
    for (const op of ['get', 'set'] as const) {
      const kvd = figures.get(`kvd.${op}`);
      for (const [peer, name] of [
        ['redis', '@keyv/redis'],
        ['sqlite', '@keyv/sqlite'],
      ] as const) {
        const other = figures.get(`${peer}.${op}`);
        if (kvd && other) {
          out.ratio(
            figureId('keyv', undefined, 'ratio', `${op}.kvd/${peer}`),
            `Keyv ${op}: KeyvKvd ÷ ${name}`,
            kvd,
            other,
          );
        }
      }
    }
    out.note(
      'every engine behind the same Keyv (default namespace and JSON serialization, throwOnErrors); ' +
        'kvd durability everysec, redis-server appendonly with appendfsync everysec and no RDB, ' +
        'SQLite WAL with synchronous=NORMAL (set through the adapter): no engine syncs per write',
    );
  },
};

/** KeyvKvd on a Store of its own (everysec, the run's reader pool size). */
async function kvdSubject(dir: string, readers: number): Promise<Subject> {
  const store = await Store.open(dir, { durability: 'everysec', readers });
  const keyv = new Keyv<string>({
    store: new KeyvKvd(store, { closeStore: true }),
    throwOnErrors: true,
  });
  return { engine: 'kvd', name: 'KeyvKvd', keyv, close: () => keyv.disconnect() };
}

/** @keyv/redis on the redis-server at `port` (node-redis, RESP2; it connects on first use). */
function redisSubject(port: number): Subject {
  const adapter = new KeyvRedis<string>(`redis://127.0.0.1:${port}`, { throwOnErrors: true });
  const keyv = new Keyv<string>({ store: adapter, throwOnErrors: true });
  return { engine: 'redis', name: '@keyv/redis', keyv, close: () => keyv.disconnect() };
}

/** @keyv/sqlite on a file database, switched to WAL and synchronous=NORMAL. */
async function sqliteSubject(file: string): Promise<Subject> {
  const adapter = new KeyvSqlite({ uri: `sqlite://${file}` });
  await adapter.query('PRAGMA journal_mode = WAL');
  await adapter.query('PRAGMA synchronous = NORMAL');
  const keyv = new Keyv<string>({ store: adapter, throwOnErrors: true });
  return { engine: 'sqlite', name: '@keyv/sqlite', keyv, close: () => keyv.disconnect() };
}

/** Seconds to run `op(0)` … `op(count - 1)` with IN_FLIGHT outstanding. */
async function timed(count: number, op: (n: number) => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await pipeline(count, (n) => op(n), 1, IN_FLIGHT);
  return (performance.now() - start) / 1000;
}

/** `count` values of VALUE_CHARS characters, seeded. */
function randomValues(count: number): string[] {
  const next = prng(7);
  return Array.from({ length: count }, () => {
    let value = '';
    for (let c = 0; c < VALUE_CHARS; c++) value += ALPHABET[next() & 63];
    return value;
  });
}

/** 0 … count - 1 in a seeded random order (Fisher–Yates). */
function shuffled(count: number, seed: number): Uint32Array {
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  const next = prng(seed);
  for (let i = count - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** "low–high" of rates, in k/s. */
function range(rates: readonly number[]): string {
  const k = (v: number) => `${(v / 1000).toFixed(1)}k`;
  return `${k(Math.min(...rates))}–${k(Math.max(...rates))}/s`;
}
