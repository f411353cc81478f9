// Owns starting the servers the benchmarks drive over RESP (redis-server, `kvd serve`, the Node
// floor): whether a command is installed, a free port, and a child process started and waited
// for (bounded) until it answers PING through redis-cli.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A server started by `startServer`. */
export interface RunningServer {
  readonly port: number;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

/** Whether `name` is a command on the PATH. */
export function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
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
export async function startServer(
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

/** Stops servers started by `startServer` (SIGTERM) and waits for them to exit. */
export async function stopServers(servers: readonly RunningServer[]): Promise<void> {
  for (const s of servers) s.child.kill('SIGTERM');
  await Promise.all(servers.map((s) => s.exited));
}

/**
 * redis-server as the benchmarks run it, like kvd's everysec: an append-only file synced every
 * second, no RDB saves, its files in `dir`; `extra` flags after those.
 */
export function startRedisServer(
  dir: string,
  extra: readonly string[] = [],
): Promise<RunningServer> {
  return startServer('redis-server', (port) => [
    ...['--port', String(port), '--dir', dir],
    ...['--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''],
    ...extra,
  ]);
}
