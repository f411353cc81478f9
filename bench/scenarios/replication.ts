// Scenario "replication": kvd → kvd against redis-server → redis-server, the same data and load
// on the same machine. For each engine: a master loaded with N keys of 100 B (redis-cli --pipe),
// its SET rate under `redis-benchmark -t set -P 16` with no replica, then a replica of the same
// engine told `REPLICAOF` and timed until its full resync is done, then the same load with the
// replica attached while the lag (master offset − replica offset, bytes) is sampled every 20 ms,
// with the lag in time derived from the samples (how long ago the master's offset was the
// replica's), and the time the replica takes to catch up once the load stops.

import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { hitKey } from '../lib/dataset.js';
import {
  hasCommand,
  type RunningServer,
  startRedisServer,
  startServer,
  stopServers,
} from '../lib/redis-server.js';
import type { Figure } from '../lib/results.js';
import { figureId, type Scenario } from '../lib/scenario.js';
import { median } from '../lib/stats.js';

const ENGINES = ['kvd', 'redis'] as const;
type Peer = (typeof ENGINES)[number];
const VALUE = 'v'.repeat(100);
const SAMPLE_MS = 20;

export const scenario: Scenario = {
  id: 'replication',
  title: 'Replication: kvd → kvd vs redis-server → redis-server',
  async run({ config, temp }, out) {
    if (!hasCommand('redis-server') || !hasCommand('redis-cli') || !hasCommand('redis-benchmark')) {
      out.note('skipped: redis-server, redis-cli or redis-benchmark is not installed');
      return;
    }
    const keys = config.keys;
    const load = join(temp.dir('replication-load'), 'load.resp');
    await writeLoadFile(load, keys);
    const figures = new Map<string, Figure>();
    for (const engine of ENGINES) {
      const servers: RunningServer[] = [];
      const clients: Redis[] = [];
      try {
        const master = await start(engine, temp.dir(`replication-${engine}-master`));
        servers.push(master);
        const replica = await start(engine, temp.dir(`replication-${engine}-replica`));
        servers.push(replica);
        const m = new Redis({ port: master.port });
        const r = new Redis({ port: replica.port });
        clients.push(m, r);
        execFileSync('sh', ['-c', `redis-cli -p ${master.port} --pipe < ${load}`], {
          stdio: 'ignore',
        });
        if ((await m.dbsize()) !== keys)
          throw new Error(`${engine}: the master holds ${await m.dbsize()} keys`);
        const alone = setRate(master.port, keys);

        const started = performance.now();
        await r.call('REPLICAOF', '127.0.0.1', String(master.port));
        await until(async () => {
          const info = await replication(r);
          return info.master_link_status === 'up' && info.master_sync_in_progress === '0';
        });
        const fullSyncMs = performance.now() - started;
        if ((await r.dbsize()) < keys)
          throw new Error(`${engine}: the replica holds ${await r.dbsize()} keys`);

        const lags: number[] = [];
        const samples: OffsetSample[] = [];
        let loading = true;
        const sampler = (async () => {
          while (loading) {
            const [mi, ri] = await Promise.all([replication(m), replication(r)]);
            const sample = {
              at: performance.now(),
              master: Number(mi.master_repl_offset),
              replica: Number(ri.slave_repl_offset),
            };
            samples.push(sample);
            lags.push(Math.max(0, sample.master - sample.replica));
            await new Promise((resolve) => setTimeout(resolve, SAMPLE_MS));
          }
        })();
        const withReplica = await setRateAsync(master.port, keys);
        loading = false;
        await sampler;
        const target = Number((await replication(m)).master_repl_offset);
        const stopped = performance.now();
        await until(async () => Number((await replication(r)).slave_repl_offset) >= target);
        const catchUpMs = performance.now() - stopped;

        const how = `${keys.toLocaleString('en-US')} keys × 100 B; redis-benchmark -t set -n ${keys} -r ${keys} -d 100 -P 16 -c 50`;
        const record = (
          variant: string,
          label: string,
          unit: Figure['unit'],
          better: Figure['better'],
          value: number,
          detail: string,
        ) => {
          const figure = out.value(
            {
              id: figureId('replication', undefined, engine, variant),
              label,
              engine,
              unit,
              better,
              how: detail,
            },
            value,
            1,
          );
          figures.set(`${engine}.${variant}`, figure);
        };
        const name = engine === 'kvd' ? 'kvd → kvd' : 'redis-server → redis-server';
        record(
          'fullSync',
          `full resync of ${keys.toLocaleString('en-US')} keys, ${name}`,
          'ms',
          'lower',
          fullSyncMs,
          'REPLICAOF until link up and sync done',
        );
        record(
          'setAlone',
          `master SET -P16, no replica (${engine})`,
          'requests/s',
          'higher',
          alone,
          how,
        );
        record(
          'setWithReplica',
          `master SET -P16, one replica (${engine})`,
          'requests/s',
          'higher',
          withReplica,
          how,
        );
        record(
          'lagMedian',
          `replica lag during the load, median (${engine})`,
          'B',
          'lower',
          median(lags),
          `${lags.length} samples every ${SAMPLE_MS} ms`,
        );
        record(
          'lagMax',
          `replica lag during the load, max (${engine})`,
          'B',
          'lower',
          Math.max(0, ...lags),
          `${lags.length} samples every ${SAMPLE_MS} ms`,
        );
        const lagsMs = timeLags(samples);
        record(
          'lagMsMedian',
          `replica lag during the load in time, median (${engine})`,
          'ms',
          'lower',
          median(lagsMs),
          `${lagsMs.length} samples: how long before each sample the master's offset was the replica's (interpolated)`,
        );
        record(
          'lagMsMax',
          `replica lag during the load in time, max (${engine})`,
          'ms',
          'lower',
          Math.max(0, ...lagsMs),
          `${lagsMs.length} samples: how long before each sample the master's offset was the replica's (interpolated)`,
        );
        record(
          'catchUp',
          `replica catch-up after the load (${engine})`,
          'ms',
          'lower',
          catchUpMs,
          'from the end of the load until the replica offset reaches the master offset',
        );
        out.note(`${engine}: SET with a replica ÷ without = ${(withReplica / alone).toFixed(2)}`);
      } finally {
        for (const client of clients) client.disconnect();
        await stopServers(servers);
      }
    }
    for (const variant of [
      'fullSync',
      'setAlone',
      'setWithReplica',
      'lagMsMedian',
      'catchUp',
    ] as const) {
      const kvd = figures.get(`kvd.${variant}`);
      const redis = figures.get(`redis.${variant}`);
      if (kvd && redis) {
        out.ratio(
          figureId('replication', undefined, 'ratio', `${variant}.kvd/redis`),
          `${kvd.label} ÷ redis`,
          kvd,
          redis,
        );
      }
    }
    out.note(
      'kvd with --durability everysec, redis-server with appendonly yes, appendfsync everysec and no RDB saves; diskless sync on both (Redis 7 default, kvd always with capa eof)',
    );
  },
};

async function start(engine: Peer, dir: string): Promise<RunningServer> {
  if (engine === 'redis') return startRedisServer(dir, ['--repl-diskless-sync-delay', '0']);
  return startServer(process.execPath, (port) => [
    '--max-semi-space-size=4',
    '--expose-gc',
    new URL('../../../dist/main/cli.js', import.meta.url).pathname,
    ...['serve', '--port', String(port), '--dir', dir, '--durability', 'everysec'],
  ]);
}

/** `count` SET commands in RESP, the dataset's keys with 100-byte values. */
async function writeLoadFile(path: string, count: number): Promise<void> {
  const file = createWriteStream(path);
  let chunk = '';
  for (let i = 0; i < count; i++) {
    const key = hitKey(i);
    chunk += `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${VALUE.length}\r\n${VALUE}\r\n`;
    if (chunk.length > 1 << 20) {
      if (!file.write(chunk)) await once(file, 'drain');
      chunk = '';
    }
  }
  file.end(chunk);
  await once(file, 'close');
}

/** One sample of the master's and the replica's offsets. */
interface OffsetSample {
  readonly at: number;
  readonly master: number;
  readonly replica: number;
}

/**
 * The replica's lag in time at each sample: how long before it the master's offset reached the
 * replica's offset then, the master's offset taken as growing linearly between two samples.
 */
function timeLags(samples: readonly OffsetSample[]): number[] {
  const lags: number[] = [];
  let j = 0;
  for (const s of samples) {
    if (s.replica >= s.master) {
      lags.push(0);
      continue;
    }
    while (j < samples.length && samples[j]!.master < s.replica) j++;
    if (j === 0 || j >= samples.length) continue; // before the first sample: not measurable
    const before = samples[j - 1]!;
    const after = samples[j]!;
    const share = (s.replica - before.master) / Math.max(1, after.master - before.master);
    lags.push(Math.max(0, s.at - (before.at + share * (after.at - before.at))));
  }
  return lags;
}

async function replication(client: Redis): Promise<Record<string, string>> {
  const text = (await client.info('replication')) as string;
  return Object.fromEntries(
    text
      .split('\r\n')
      .filter((l) => l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
  );
}

/** Polls `probe` every 10 ms, for at most 10 minutes. */
async function until(probe: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + 600_000;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function benchmarkArgs(port: number, keys: number): string[] {
  return [
    '-p',
    String(port),
    '-t',
    'set',
    '-n',
    String(keys),
    '-r',
    String(keys),
    '-d',
    '100',
    '-P',
    '16',
    '-c',
    '50',
    '--csv',
  ];
}

function rateOf(csv: string): number {
  for (const line of csv.split('\n')) {
    const cells = line.split(',').map((c) => c.replace(/"/g, ''));
    if (cells[0]?.toLowerCase() === 'set' && cells[1]) return Number(cells[1]);
  }
  throw new Error(`no SET rate in redis-benchmark's output: ${csv}`);
}

function setRate(port: number, keys: number): number {
  return rateOf(execFileSync('redis-benchmark', benchmarkArgs(port, keys), { encoding: 'utf8' }));
}

/** redis-benchmark in a child process, so the lag sampler runs meanwhile. */
async function setRateAsync(port: number, keys: number): Promise<number> {
  const child = spawn('redis-benchmark', benchmarkArgs(port, keys), {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let csv = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    csv += chunk;
  });
  await once(child, 'exit');
  return rateOf(csv);
}
