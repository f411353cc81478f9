// Scenario "redis": the daemon against redis-server through redis-benchmark, in the same run:
// `redis-benchmark -t set,get -n N -r N -d 100 -P 16 -c 50` and the same with -P 1, with both
// servers at the same durability (kvd --durability everysec; Redis appendonly yes, appendfsync
// everysec, no RDB snapshots). Needs Debian's redis-server and redis-tools; skipped without them.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { figureId, type Scenario } from '../lib/scenario.js';

const PIPELINES = [16, 1] as const;

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
      kvd: await startServer(process.execPath, (port) => [
        new URL('../../../dist/main/cli.js', import.meta.url).pathname,
        'serve',
        '--port',
        String(port),
        '--dir',
        temp.dir('redis-kvd'),
        '--durability',
        'everysec',
      ]),
      redis: await startServer('redis-server', (port) => [
        '--port',
        String(port),
        '--dir',
        temp.dir('redis-redis'),
        '--appendonly',
        'yes',
        '--appendfsync',
        'everysec',
        '--save',
        '',
      ]),
    };
    try {
      for (const pipeline of PIPELINES) {
        for (const engine of ['kvd', 'redis'] as const) {
          const rates = runBenchmark(servers[engine].port, requests, pipeline);
          for (const [test, rps] of rates) {
            out.value(
              {
                id: figureId('redis', 'A', engine, `${test}.P${pipeline}`),
                label: `${engine} ${test.toUpperCase()} -P ${pipeline}`,
                engine,
                dataset: 'A',
                unit: 'requests/s',
                better: 'higher',
                how: `redis-benchmark -n ${requests} -r ${requests} -d 100 -P ${pipeline} -c 50`,
              },
              rps,
            );
          }
        }
        for (const test of ['set', 'get']) {
          const kvd = out.figures.find(
            (f) => f.id === figureId('redis', 'A', 'kvd', `${test}.P${pipeline}`),
          );
          const redis = out.figures.find(
            (f) => f.id === figureId('redis', 'A', 'redis', `${test}.P${pipeline}`),
          );
          if (kvd && redis)
            out.ratio(
              `redis.${test}.P${pipeline}`,
              `${test.toUpperCase()} -P ${pipeline}: kvd ÷ redis`,
              kvd,
              redis,
            );
        }
      }
      out.note('both servers on 127.0.0.1, same machine as redis-benchmark (which takes CPU too)');
    } finally {
      for (const s of Object.values(servers)) s.child.kill('SIGTERM');
      await Promise.all(Object.values(servers).map((s) => s.exited));
    }
  },
};

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface RunningServer {
  readonly port: number;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Starts a server and waits (bounded) until it answers PING through redis-cli. */
async function startServer(
  command: string,
  args: (port: number) => string[],
): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(command, args(port), {
    stdio: 'ignore',
    env: { ...process.env, KVD_LOG_LEVEL: 'warn' },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      const reply = execFileSync('redis-cli', ['-p', String(port), 'PING'], {
        encoding: 'utf8',
        timeout: 2000,
        stdio: ['ignore', 'pipe', 'ignore'], // "connection refused" until it is up
      });
      if (reply.trim() === 'PONG') return { port, child, exited };
    } catch {
      // not up yet
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  child.kill('SIGKILL');
  throw new Error(`${command} did not start on port ${port}`);
}

/** Runs redis-benchmark and returns requests per second per test ("set", "get"). */
function runBenchmark(port: number, requests: number, pipeline: number): [string, number][] {
  const csv = execFileSync(
    'redis-benchmark',
    [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-t',
      'set,get',
      '-n',
      String(requests),
      '-r',
      String(requests),
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
  const rates: [string, number][] = [];
  for (const line of csv.split('\n')) {
    const cells = line.split(',').map((c) => c.replace(/"/g, ''));
    const test = cells[0]?.toLowerCase();
    if ((test === 'set' || test === 'get') && cells[1]) rates.push([test, Number(cells[1])]);
  }
  return rates;
}
