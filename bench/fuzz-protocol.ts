// Protocol fuzzing at scale (`npm run fuzz:protocol`; not part of `npm test`): a real `kvd serve`
// child gets a million generated inputs over real sockets (valid and inline commands, mutated and
// random streams, abusive lengths, all in randomly split writes) and must survive them all; prints
// what was sent and answered, and the server's RSS at start, peak and end, as a table and JSON.

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { prng } from '../test/fixtures/prng.js';
import { RespClient } from '../test/fixtures/resp-client.js';
import {
  headerSoup,
  inlineRequest,
  lengthAbuse,
  mutatedStream,
  randomStream,
  validRequest,
} from '../test/fixtures/resp-fuzz.js';
import { runSession, type SessionResult } from './lib/fuzz-session.js';
import { renderTable } from './lib/table.js';
import { TempDirs } from './lib/temp-dirs.js';

const CLI = new URL('../../dist/main/cli.js', import.meta.url).pathname;
/** Inputs in one clean session (valid requests, pipelined) and in one mixed session. */
const CLEAN_SESSION_INPUTS = 500;
const MIXED_SESSION_INPUTS = 10;
/** A session that neither answers nor closes for this long is counted as stalled. */
const SESSION_TIMEOUT_MS = 30_000;
/** Keys written before the run, which no fuzz input may change (longer than FUZZ_KEYS). */
const KNOWN_KEYS = 40;

const { values: flags } = parseArgs({
  options: {
    inputs: { type: 'string', default: '1000000' },
    connections: { type: 'string', default: '8' },
    seed: { type: 'string', default: '1' },
    'clean-share': { type: 'string', default: '0.7' },
  },
});
const target = Number(flags.inputs);
const connections = Number(flags.connections);
const seed = Number(flags.seed);
const cleanShare = Number(flags['clean-share']);

/** The daemon child and what it printed on stderr (kept for a crash report). */
interface Daemon {
  readonly child: ChildProcess;
  readonly port: number;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

async function startDaemon(dir: string): Promise<Daemon> {
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--port', '0', '--dir', dir, '--readers', '1', '--durability', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KVD_LOG_LEVEL: 'warn' } },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    void exited.then((code) => reject(new Error(`kvd serve exited (${code}): ${stderr}`)));
  });
  const port = Number(/:(\d+)$/.exec(ready)?.[1]);
  return { child, port, exited, stderr: () => stderr };
}

/** VmRSS and VmHWM (peak) of a process, in bytes. */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]);
  return { rss: kib('VmRSS') * 1024, hwm: kib('VmHWM') * 1024 };
}

function infoField(info: string, field: string): number {
  return Number(new RegExp(`${field}:(\\d+)`).exec(info)?.[1] ?? Number.NaN);
}

async function info(port: number): Promise<string> {
  const client = await RespClient.connect(port);
  const reply = await client.call('INFO');
  client.close();
  return reply.type === 'bulk' ? reply.value.toString() : '';
}

function knownValue(i: number): Buffer {
  return Buffer.from(Array.from({ length: 1 + ((i * 37) % 200) }, (_, j) => (i * j) & 255));
}

const temp = new TempDirs();
const started = performance.now();
const daemon = await startDaemon(temp.dir('fuzz'));
const pid = daemon.child.pid!;
/** The daemon exited before the run asked it to: a crash. */
let crashed = false;
let stopping = false;
void daemon.exited.then(() => {
  crashed = !stopping;
});

const setup = await RespClient.connect(daemon.port);
for (let i = 0; i < KNOWN_KEYS; i++) await setup.call('SET', `known:${i}`, knownValue(i));
const limitReply = await setup.call('CONFIG', 'GET', 'proto-max-bulk-len');
setup.close();
const maxBulkBytes =
  limitReply.type === 'array' && limitReply.value?.[1]?.type === 'bulk'
    ? Number(limitReply.value[1].value.toString())
    : 17 * 1024 * 1024;

const cleanInput = fc.oneof(
  { weight: 85, arbitrary: validRequest },
  { weight: 15, arbitrary: inlineRequest },
);
const mixedInput = fc.oneof(
  { weight: 30, arbitrary: validRequest },
  { weight: 10, arbitrary: inlineRequest },
  { weight: 20, arbitrary: mutatedStream },
  { weight: 15, arbitrary: randomStream },
  { weight: 10, arbitrary: headerSoup },
  { weight: 15, arbitrary: lengthAbuse(maxBulkBytes) },
);

const memoryAtStart = memoryOf(pid);
let peakRss = memoryAtStart.rss;
const sampler = setInterval(() => {
  try {
    peakRss = Math.max(peakRss, memoryOf(pid).rss);
  } catch {
    // the process is gone: reported as a crash
  }
}, 250);

const totals = {
  inputs: 0,
  cleanInputs: 0,
  sessions: 0,
  cleanSessions: 0,
  bytes: 0,
  replies: 0,
  errors: 0,
  protocolErrorCloses: 0,
  cleanMismatches: 0,
  stalled: 0,
  badReplies: 0,
};
let nextReport = 100_000;

function record(clean: boolean, inputs: readonly Buffer[], result: SessionResult): void {
  totals.replies += result.replies;
  totals.errors += result.errors;
  if (result.protocolError) totals.protocolErrorCloses++;
  if (result.stalled) totals.stalled++;
  if (result.badReply !== undefined) {
    totals.badReplies++;
    process.stderr.write(`bad reply: ${result.badReply}\n`);
  }
  if (clean && (result.replies !== inputs.length || result.protocolError)) {
    totals.cleanMismatches++;
    process.stderr.write(`clean session: ${inputs.length} inputs, ${result.replies} replies\n`);
  }
}

async function worker(): Promise<void> {
  while (totals.inputs < target && !crashed) {
    const session = totals.sessions++;
    const clean = totals.cleanInputs < cleanShare * (totals.inputs + 1);
    const count = Math.min(
      clean ? CLEAN_SESSION_INPUTS : MIXED_SESSION_INPUTS,
      target - totals.inputs,
    );
    const inputs = fc.sample(clean ? cleanInput : mixedInput, {
      seed: seed + session,
      numRuns: count,
    });
    totals.inputs += count;
    if (clean) {
      totals.cleanInputs += count;
      totals.cleanSessions++;
    }
    for (const input of inputs) totals.bytes += input.length;
    const random = prng(seed * 7919 + session);
    record(clean, inputs, await runSession(daemon.port, inputs, clean, random, SESSION_TIMEOUT_MS));
    if (totals.inputs >= nextReport) {
      nextReport += 100_000;
      const seconds = (performance.now() - started) / 1000;
      const rss = (memoryOf(pid).rss / 1024 / 1024).toFixed(0);
      process.stderr.write(
        `${totals.inputs} inputs, ${seconds.toFixed(0)} s, server RSS ${rss} MiB\n`,
      );
    }
  }
}

await Promise.all(Array.from({ length: connections }, () => worker()));
const fuzzSeconds = (performance.now() - started) / 1000;
clearInterval(sampler);

let knownIntact = false;
let serverInfo = '';
let memoryAtEnd = { rss: Number.NaN, hwm: Number.NaN };
if (!crashed) {
  const check = await RespClient.connect(daemon.port);
  const values = await check.call(
    'MGET',
    ...Array.from({ length: KNOWN_KEYS }, (_, i) => `known:${i}`),
  );
  check.close();
  knownIntact =
    values.type === 'array' &&
    values.value?.every((v, i) => v.type === 'bulk' && v.value.equals(knownValue(i))) === true;
  serverInfo = await info(daemon.port);
  memoryAtEnd = memoryOf(pid);
  stopping = true;
  daemon.child.kill('SIGTERM');
}
const exitCode = await daemon.exited;
temp.removeAll();

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const result = {
  inputs: totals.inputs,
  cleanInputs: totals.cleanInputs,
  sessions: totals.sessions,
  cleanSessions: totals.cleanSessions,
  bytesSent: totals.bytes,
  replies: totals.replies,
  errorsAnswered: totals.errors,
  protocolErrorCloses: totals.protocolErrorCloses,
  serverProtocolErrors: infoField(serverInfo, 'kvd_protocol_errors'),
  serverCommands: infoField(serverInfo, 'total_commands_processed'),
  serverConnections: infoField(serverInfo, 'total_connections_received'),
  /** The server's JS heap and external memory at the end (INFO used_memory). */
  serverUsedMemory: infoField(serverInfo, 'used_memory'),
  crashes: crashed ? 1 : 0,
  cleanMismatches: totals.cleanMismatches,
  stalledSessions: totals.stalled,
  badReplies: totals.badReplies,
  knownKeysIntact: knownIntact,
  shutdownExitCode: exitCode,
  maxBulkBytes,
  rssStart: memoryAtStart.rss,
  rssPeak: Math.max(peakRss, memoryAtEnd.hwm),
  rssEnd: memoryAtEnd.rss,
  seconds: Number(fuzzSeconds.toFixed(1)),
  seed,
  connections,
};
const rows: [string, string][] = [
  [
    'inputs sent (clean / mixed)',
    `${result.inputs} (${result.cleanInputs} / ${result.inputs - result.cleanInputs})`,
  ],
  ['sessions = connections (clean)', `${result.sessions} (${result.cleanSessions})`],
  ['bytes sent', mib(result.bytesSent)],
  ['replies received', String(result.replies)],
  ['errors answered', String(result.errorsAnswered)],
  [
    'closed by a protocol error (client / server count)',
    `${result.protocolErrorCloses} / ${result.serverProtocolErrors}`,
  ],
  ['commands processed (server)', String(result.serverCommands)],
  ['server crashes', String(result.crashes)],
  ['clean sessions not answered exactly', String(result.cleanMismatches)],
  ['stalled sessions / invalid replies', `${result.stalledSessions} / ${result.badReplies}`],
  ['known keys intact', String(result.knownKeysIntact)],
  [
    'server RSS start / peak / end',
    `${mib(result.rssStart)} / ${mib(result.rssPeak)} / ${mib(result.rssEnd)}`,
  ],
  ['server heap + external at end (INFO used_memory)', mib(result.serverUsedMemory)],
  ['graceful shutdown exit code', String(result.shutdownExitCode)],
  ['seconds (inputs/s)', `${result.seconds} (${Math.round(result.inputs / fuzzSeconds)})`],
];
process.stdout.write(
  `== fuzz:protocol: kvd serve, ${connections} connections at a time, seed ${seed}, maxBulkBytes ${maxBulkBytes}\n` +
    `${renderTable(['figure', 'value'], rows)}\n${JSON.stringify(result)}\n`,
);
if (crashed) process.stderr.write(`kvd serve died; its stderr:\n${daemon.stderr()}\n`);
const failed =
  result.crashes > 0 ||
  result.cleanMismatches > 0 ||
  result.stalledSessions > 0 ||
  result.badReplies > 0 ||
  !result.knownKeysIntact ||
  result.shutdownExitCode !== 0;
process.exitCode = failed ? 1 : 0;
