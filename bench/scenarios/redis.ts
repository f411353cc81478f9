// Scenario "redis": the daemon against redis-server through redis-benchmark, in the same run:
// `redis-benchmark -t set -n N -r N -d 100 -P 16 -c 50`, then `-t get`, and the same with -P 1
// (N ÷ 4 requests a pass), with both servers at the same durability (kvd --durability everysec;
// Redis appendonly yes, appendfsync everysec, no RDB snapshots). Every load runs in PASSES
// passes, the servers taking turns, each after the servers went quiet (a kvd's compaction
// after its SETs included); a figure is its median pass. Needs Debian's redis-server and
// redis-tools; skipped without them.
// Then each server's memory, from /proc/<pid>/smaps_rollup, split into anonymous pages (heaps,
// buffers, the shared index) and file-backed ones (mapped segments, which are page cache): idle
// at start, and after the load and IDLE_MS of idleness; the anonymous growth per key loaded.
// A third server, the Node floor (engines/resp-floor.ts: parse and answer from constants, no
// store), runs the same loads: the ceiling of any single-threaded Node daemon on this machine.
// kvd runs as it ships (`--network-threads auto`: one thread serving clients per core, at most
// 4; network threads answer GETs and a few other reads) and with one thread
// (`--network-threads 1`, the like of the Node floor); redis-server also runs with
// `--io-threads 2` (reads and writes its sockets on two threads), so that each is compared with
// its like as well.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { alternate, passesText } from '../lib/alternate.js';
import type { Measurement } from '../lib/measure.js';
import {
  hasCommand,
  type RunningServer,
  startRedisServer,
  startServer,
  stopServers,
} from '../lib/redis-server.js';
import type { ResultBuilder, Unit } from '../lib/results.js';
import { figureId, type Scenario } from '../lib/scenario.js';

const PIPELINES = [16, 1] as const;
/**
 * Passes of every load, the servers taking turns (lib/alternate.ts); each figure is its median
 * pass. One pass of each, minutes apart, moved by up to 70% on this VM.
 */
const PASSES = 3;
/** The servers each load runs against, in this order. */
const ENGINES = ['kvd', 'kvd-1thread', 'redis', 'redis-io-threads', 'node-floor'] as const;
type Engine = (typeof ENGINES)[number];
/** Idleness before the memory is read after the load (the measure: 15 s). */
const IDLE_MS = 15_000;
/** A load starts once all servers used at most QUIET_TICKS of CPU (1/100 s each) in a window. */
const QUIET_WINDOW_MS = 500;
const QUIET_TICKS = 3;
const QUIET_WINDOWS = 2;
/**
 * After a kvd's SETs, quiet windows in a row before the next load: 22 s. A kvd sorts its sealed
 * segments at the first compaction check (every 10 s, `DEFAULTS.compaction.intervalMs`) that
 * comes 10 s or more after its last seal, so up to 20 s after its SETs end; with only
 * QUIET_WINDOWS that sort would fall on the next servers' loads.
 */
const QUIET_WINDOWS_AFTER_KVD_SETS = 44;
/** At most this long is waited for quiet (then the load starts anyway). */
const QUIET_MAX_MS = 90_000;

export const scenario: Scenario = {
  id: 'redis',
  title: 'kvd serve vs redis-server, redis-benchmark SET/GET',
  async run({ config, temp }, out) {
    if (!hasCommand('redis-benchmark') || !hasCommand('redis-server')) {
      out.note(
        'skipped: redis-benchmark or redis-server is not installed (apt-get install -y redis-server redis-tools)',
      );
      return;
    }
    const requests = config.keys;
    const servers = {
      kvd: await startKvd(temp.dir('redis-kvd')),
      'kvd-1thread': await startKvd(temp.dir('redis-kvd-1thread'), ['--network-threads', '1']),
      redis: await startRedisServer(temp.dir('redis-redis')),
      'redis-io-threads': await startRedisServer(temp.dir('redis-redis-io'), [
        '--io-threads',
        '2',
        '--io-threads-do-reads',
        'yes',
      ]),
      'node-floor': await startServer(process.execPath, (port) => [
        '--max-semi-space-size=4',
        new URL('../engines/resp-floor.js', import.meta.url).pathname,
        String(port),
      ]),
    };
    const waitedMs: number[] = [];
    let windows: number = QUIET_WINDOWS;
    try {
      const idle = { kvd: memoryOf(servers.kvd), redis: memoryOf(servers.redis) };
      for (const pipeline of PIPELINES) {
        const loads = ENGINES.flatMap((engine) =>
          (['set', 'get'] as const).map((test) => ({ engine, test })),
        );
        const n = pipeline === 1 ? Math.max(1_000, Math.round(requests / 4)) : requests;
        const runs = await alternate(
          loads.map(({ engine, test }) => async (): Promise<Measurement> => {
            // Every load starts on a quiet machine: a kvd just loaded compacts its segments
            // (and a redis-server rewrites its AOF) for a while, which would otherwise fall on
            // the next load, its own GETs or another server's.
            waitedMs.push(await untilQuiet(Object.values(servers), windows));
            const rps = runBenchmark(servers[engine].port, test, n, requests, pipeline);
            windows =
              engine.startsWith('kvd') && test === 'set'
                ? QUIET_WINDOWS_AFTER_KVD_SETS
                : QUIET_WINDOWS;
            return { perSec: rps, samples: 1, p50Us: NaN, p99Us: NaN, ops: n, keys: n, found: 0 };
          }),
          PASSES,
        );
        loads.forEach(({ engine, test }, k) => {
          out.value(
            {
              id: figureId('redis', 'A', engine, `${test}.P${pipeline}`),
              label: `${engine} ${test.toUpperCase()} -P ${pipeline}`,
              engine,
              dataset: 'A',
              unit: 'requests/s',
              better: 'higher',
              how: `redis-benchmark -n ${n} -r ${requests} -d 100 -P ${pipeline} -c 50; ${passesText(runs[k]!, 'requests/s')}`,
            },
            runs[k]!.median.perSec,
            PASSES,
          );
        });
        for (const test of ['set', 'get']) {
          const figure = (engine: Engine) =>
            out.figures.find(
              (f) => f.id === figureId('redis', 'A', engine, `${test}.P${pipeline}`),
            );
          const [kvd, redis, floor] = [figure('kvd'), figure('redis'), figure('node-floor')];
          const [oneThread, redisIo] = [figure('kvd-1thread'), figure('redis-io-threads')];
          const name = `${test.toUpperCase()} -P ${pipeline}`;
          if (kvd && redis)
            out.ratio(`redis.${test}.P${pipeline}`, `${name}: kvd ÷ redis`, kvd, redis);
          if (oneThread && redis)
            out.ratio(
              `redis.oneThread.${test}.P${pipeline}`,
              `${name}: kvd --network-threads 1 ÷ redis`,
              oneThread,
              redis,
            );
          if (kvd && redisIo)
            out.ratio(
              `redis.threadsIo.${test}.P${pipeline}`,
              `${name}: kvd ÷ redis --io-threads 2`,
              kvd,
              redisIo,
            );
          if (floor && redis)
            out.ratio(
              `redis.floor.${test}.P${pipeline}`,
              `${name}: Node floor ÷ redis`,
              floor,
              redis,
            );
          if (oneThread && floor)
            out.ratio(
              `redis.kvdFloor.${test}.P${pipeline}`,
              `${name}: kvd --network-threads 1 ÷ Node floor`,
              oneThread,
              floor,
            );
        }
      }
      out.note(
        'all servers on 127.0.0.1, same machine as redis-benchmark (which takes CPU too); the Node floor (bench/engines/resp-floor.ts) parses each request and answers from constants, with no store',
      );
      out.note(
        `kvd as it ships (--network-threads auto) served clients on ${infoField(servers.kvd, 'kvd_network_threads')} threads here; kvd-1thread on 1`,
      );
      out.note(
        `each load started once every server had been quiet for ${QUIET_WINDOWS} × ${QUIET_WINDOW_MS} ms (≤ ${QUIET_TICKS} CPU ticks each), ${QUIET_WINDOWS_AFTER_KVD_SETS} × ${QUIET_WINDOW_MS} ms after a kvd's SETs (its compaction, at most ${QUIET_MAX_MS / 1000} s); waits: ${waitedMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s`,
      );
      // A wait, not a poll: the figure is the memory a server keeps once it has been idle this long.
      await delay(IDLE_MS);
      for (const engine of ['kvd', 'redis'] as const) {
        recordMemory(out, engine, idle[engine], memoryOf(servers[engine]), dbsize(servers[engine]));
      }
    } finally {
      await stopServers(Object.values(servers));
    }
  },
};

/**
 * Starts `kvd serve` on `dir` at everysec, with `extra` flags: as `npm start` and the `kvd`
 * binary start it (README, "Memory").
 */
function startKvd(dir: string, extra: readonly string[] = []): Promise<RunningServer> {
  return startServer(process.execPath, (port) => [
    '--max-semi-space-size=4',
    '--expose-gc',
    new URL('../../../dist/main/cli.js', import.meta.url).pathname,
    'serve',
    '--port',
    String(port),
    '--dir',
    dir,
    '--durability',
    'everysec',
    ...extra,
  ]);
}

/** CPU time a process has used, in clock ticks (utime + stime, every thread). */
function cpuTicks(server: RunningServer): number {
  const stat = readFileSync(`/proc/${server.child.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * Polls each QUIET_WINDOW_MS until the servers together used at most QUIET_TICKS in each of
 * `windows` windows in a row (at most QUIET_MAX_MS); returns the ms waited.
 */
async function untilQuiet(servers: readonly RunningServer[], windows: number): Promise<number> {
  const total = () => servers.reduce((sum, server) => sum + cpuTicks(server), 0);
  const started = performance.now();
  let before = total();
  let quiet = 0;
  while (quiet < windows && performance.now() - started < QUIET_MAX_MS) {
    await delay(QUIET_WINDOW_MS);
    const now = total();
    quiet = now - before <= QUIET_TICKS ? quiet + 1 : 0;
    before = now;
  }
  return performance.now() - started;
}

/**
 * Runs redis-benchmark's `test` ("set" or "get"), `requests` requests over keys drawn from
 * `keys`, and returns its requests per second.
 */
function runBenchmark(
  port: number,
  test: string,
  requests: number,
  keys: number,
  pipeline: number,
): number {
  const csv = execFileSync(
    'redis-benchmark',
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-t',
      test,
      '-n',
      String(requests),
      '-r',
      String(keys),
      '-d',
      '100',
      '-P',
      String(pipeline),
      '-c',
      '50',
      '--csv',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  for (const line of csv.split('\n')) {
    const cells = line.split(',').map((c) => c.replace(/"/g, ''));
    if (cells[0]?.toLowerCase() === test && cells[1]) return Number(cells[1]);
  }
  throw new Error(`redis-benchmark -t ${test} printed no rate: ${csv}`);
}

/** A process's resident memory, bytes: anonymous (with shared anonymous) and file-backed. */
interface Memory {
  readonly anonymous: number;
  readonly fileBacked: number;
}

/** Reads /proc/<pid>/smaps_rollup of a running server. */
function memoryOf(server: RunningServer): Memory {
  const text = readFileSync(`/proc/${server.child.pid}/smaps_rollup`, 'utf8');
  const kib = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  const anonymous = kib('Anonymous') + kib('Pss_Shmem');
  return { anonymous, fileBacked: kib('Rss') - anonymous };
}

/** Keys a server holds (DBSIZE through redis-cli). */
function dbsize(server: RunningServer): number {
  const reply = execFileSync('redis-cli', ['-p', String(server.port), 'DBSIZE'], {
    encoding: 'utf8',
  });
  return Number(reply.trim());
}

/** One field of a server's INFO (through redis-cli), or '?' if it has none. */
function infoField(server: RunningServer, field: string): string {
  const reply = execFileSync('redis-cli', ['-p', String(server.port), 'INFO'], {
    encoding: 'utf8',
  });
  return new RegExp(`^${field}:(.*)$`, 'm').exec(reply)?.[1]?.trim() ?? '?';
}

/** Memory figures of one server: at start, after the load and idleness, growth per key. */
function recordMemory(
  out: ResultBuilder,
  engine: 'kvd' | 'redis',
  before: Memory,
  after: Memory,
  keys: number,
): void {
  const mib = 2 ** 20;
  const how = `/proc/<pid>/smaps_rollup; ${keys.toLocaleString('en-US')} keys loaded, then ${IDLE_MS / 1000} s idle`;
  const base = { engine, dataset: 'A', better: 'lower', how } as const;
  const value = (variant: string, label: string, unit: Unit, v: number) =>
    out.value({ ...base, id: figureId('redis', 'A', engine, variant), label, unit }, v);
  value('memory.anon.idle', `${engine} anonymous memory at start`, 'MiB', before.anonymous / mib);
  value('memory.anon', `${engine} anonymous memory after the load`, 'MiB', after.anonymous / mib);
  value(
    'memory.file',
    `${engine} file-backed memory after the load`,
    'MiB',
    after.fileBacked / mib,
  );
  value(
    'memory.anonPerKey',
    `${engine} anonymous memory growth per key loaded`,
    'B/key',
    (after.anonymous - before.anonymous) / Math.max(1, keys),
  );
}
