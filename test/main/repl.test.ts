// Tests the REPL: its grammar in process against an in-memory store (ReplSession, runRepl), then
// the built `kvd repl` binary end to end with piped stdin: exact stdout, persistence across
// runs, end of input without EXIT, and the directory lock. Synchronises on process events only.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { helpText, ReplSession, runRepl, splitCommand } from '../../dist/main/cli/repl.js';
import { KvError } from '../../dist/main/index.js';
import { MapStore } from '../fixtures/map-repl-store.js';

const CLI = fileURLToPath(new URL('../../dist/main/cli.js', import.meta.url));

/** Feeds `lines` to a fresh session and returns everything it printed, plus the store. */
async function converse(lines: readonly string[], sentinel?: string) {
  const store = new MapStore();
  const session = new ReplSession(store, sentinel);
  let output = '';
  for (const line of lines) output += (await session.handleLine(line)).output;
  return { output: output + session.end(), store, session };
}

describe('ReplSession', () => {
  it('takes the rest of the line after the key as the value, spaces included', async () => {
    const { output, store } = await converse(['  set  k1   hello   world  ', 'Get k1', 'SET k2 x']);
    expect(output).toBe('OK\nhello   world  \nOK\n');
    expect(store.data.get('k1')).toBe('hello   world  ');
  });

  it('collects a multi-line value up to the exact sentinel line', async () => {
    const { output, store } = await converse([
      'SET doc',
      '',
      '  first',
      ' END',
      'END ',
      'exit',
      '',
      'END',
      'SET empty',
      'END',
    ]);
    expect(output).toBe('OK\nOK\n');
    expect(store.data.get('doc')).toBe('\n  first\n END\nEND \nexit\n');
    expect(store.data.get('empty')).toBe('');
  });

  it('sets the empty value for `SET key ` (whitespace after the key); `SET key` alone starts a value', async () => {
    const { output, store } = await converse([
      'SET a ',
      'SET b\t',
      'set c   ',
      'SET d',
      'x ',
      'END',
      'EXISTS a',
    ]);
    expect(output).toBe('OK\nOK\nOK\nOK\n(integer) 1\n');
    expect([...store.data]).toEqual([
      ['a', ''],
      ['b', ''],
      ['c', ''],
      ['d', 'x '],
    ]);
    expect(splitCommand('SET k')).toEqual({ word: 'SET', key: 'k', rest: '', endsAfterKey: true });
    expect(splitCommand('  SET k ')).toEqual({
      word: 'SET',
      key: 'k',
      rest: '',
      endsAfterKey: false,
    });
    expect(splitCommand('SET k  v ').rest).toBe('v ');
    expect(splitCommand('SET').endsAfterKey).toBe(false);
  });

  it('drops a multi-line value on cancel(): nothing is set, and the next line is a command', async () => {
    const store = new MapStore();
    const session = new ReplSession(store);
    expect(session.cancel()).toBe('');
    await session.handleLine('SET doc');
    await session.handleLine('first line');
    expect(session.inValue).toBe(true);
    expect(session.cancel()).toBe('(cancelled) doc was not set\n');
    expect(session.inValue).toBe(false);
    expect(session.prompt).toBe('kvd> ');
    expect((await session.handleLine('EXISTS doc')).output).toBe('(integer) 0\n');
    expect(session.end()).toBe('');
    expect(store.data.size).toBe(0);
  });

  it('shows the continuation prompt inside a multi-line value', async () => {
    const session = new ReplSession(new MapStore(), '.');
    expect(session.prompt).toBe('kvd> ');
    await session.handleLine('SET k');
    expect(session.prompt).toBe('... ');
    expect((await session.handleLine('.')).output).toBe('OK\n');
    expect(session.prompt).toBe('kvd> ');
  });

  it('answers GET, DEL and EXISTS in the documented forms', async () => {
    const { output } = await converse([
      'GET nope',
      'SET a 1',
      'exists a',
      'DEL a',
      'del a',
      'EXISTS a',
      'STATS',
    ]);
    expect(output).toBe(
      '(nil)\nOK\n(integer) 1\n(integer) 1\n(integer) 0\n(integer) 0\n{\n  "keys": 0\n}\n',
    );
  });

  it('reports unknown commands and wrong arity as (error) lines and goes on', async () => {
    const { output } = await converse([
      'FROB a',
      'SET',
      'GET',
      'GET a b',
      'DEL',
      'EXISTS a b',
      'STATS x',
      'EXIT now',
      '   ',
      'SET a 1',
    ]);
    const lines = output.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('OK');
    expect(lines.slice(0, -1)).toEqual([
      "(error) ERR: unknown command 'FROB' (type HELP)",
      ...['SET', 'GET', 'GET', 'DEL', 'EXISTS', 'STATS', 'EXIT'].map((c) =>
        expect.stringMatching(new RegExp(`^\\(error\\) ERR: wrong number of arguments for ${c} `)),
      ),
    ]);
  });

  it('prints store errors as (error) CODE: message', async () => {
    const store = new MapStore();
    const session = new ReplSession(store);
    store.failNextSet = new KvError('KV_VALUE_TOO_LARGE', 'too big');
    expect((await session.handleLine('SET a b')).output).toBe(
      '(error) KV_VALUE_TOO_LARGE: too big\n',
    );
    store.failNextSet = new KvError('KV_CLOSED', 'closed');
    await session.handleLine('SET m');
    expect((await session.handleLine('END')).output).toBe('(error) KV_CLOSED: closed\n');
  });

  it('ends on EXIT, and reports a multi-line value cut off by end of input', async () => {
    const session = new ReplSession(new MapStore());
    expect(await session.handleLine('exit')).toEqual({ output: '', done: true });
    const { output, store } = await converse(['SET cut', 'partial']);
    expect(output).toMatch(/^\(error\) ERR: input ended before the sentinel line "END"; cut /);
    expect(store.data.has('cut')).toBe(false);
  });

  it('rejects an empty or multi-line sentinel, and HELP names the sentinel', async () => {
    expect(() => new ReplSession(new MapStore(), '')).toThrow(KvError);
    expect(() => new ReplSession(new MapStore(), 'a\nb')).toThrow(KvError);
    expect(helpText('STOP')).toContain('exactly STOP');
    expect((await converse(['help'], '%%')).output).toBe(helpText('%%'));
  });
});

describe('ReplSession COMPACT', () => {
  it('runs compact(), draws its progress on the bar it is given, and prints what it did', async () => {
    const drawn: string[] = [];
    const session = new ReplSession(new MapStore(), undefined, (label) => ({
      update: (done, total) => drawn.push(`${label} ${done}/${total}`),
      stop: () => drawn.push('stop'),
    }));
    const { output } = await session.handleLine('compact');
    expect(output).toBe(
      'OK: merged 3 segments, 100 -> 40 bytes, 1 expired keys dropped, in 0.50 s\n',
    );
    expect(drawn).toEqual(['compacting 50/100', 'compacting 100/100', 'stop']);
    expect((await session.handleLine('COMPACT now')).output).toMatch(/usage: COMPACT/);
  });
});

describe('runRepl', () => {
  it('prints replies only (no prompts) when not a terminal, and stops at EXIT', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = '';
    output.on('data', (chunk: Buffer) => {
      printed += chunk.toString('utf8');
    });
    input.end('SET a x y\nSET b\nl1\n\nl3\nEND\nGET b\nEXIT\nSET c never\n');
    const store = new MapStore();
    await runRepl(store, { input, output, terminal: false });
    expect(printed).toBe('OK\nOK\nl1\n\nl3\n');
    expect(store.data.has('c')).toBe(false);
  });

  it('stops when its signal is aborted', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const stopping = new AbortController();
    const done = runRepl(new MapStore(), {
      input,
      output,
      terminal: false,
      signal: stopping.signal,
    });
    stopping.abort();
    await done;
  });
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kvd-repl-'));
  dirs.push(dir);
  return dir;
}

/** Starts `kvd <args>` with piped stdio; logs silenced. */
function startCli(args: readonly string[]): ChildProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, KVD_LOG_LEVEL: 'silent' },
  });
  // A child that exits before reading stdin (a usage error, --help) makes our writes fail with
  // EPIPE; the test judges it by its exit code and output instead.
  child.stdin!.on('error', () => {});
  children.push(child);
  return child;
}

/** Collects a child's stdout and stderr until it exits and both streams close. */
function finished(child: ChildProcess): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `kvd <args>` with `input` on stdin (then end of input) to completion. */
function runCli(args: readonly string[], input = ''): Promise<Run> {
  const child = startCli(args);
  const run = finished(child);
  child.stdin!.end(input);
  return run;
}

function expectClean(run: Run): void {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
}

const POEM = 'first line\n\n  indented, with  spaces  \n\nlast line';

describe('kvd repl (built binary)', () => {
  it('runs a script with exact replies, and the data persists into the next run', async () => {
    const dir = await tempDir();
    const first = await runCli(
      ['repl', '--dir', dir],
      [
        'SET greeting hello   wide world',
        'get greeting',
        'SET poem',
        POEM,
        'END',
        'GET poem',
        'GET missing',
        'SET doomed x',
        'DEL doomed',
        'del doomed',
        'EXISTS poem',
        'EXISTS doomed',
        'FLY away',
        'GET',
        'EXIT',
        'SET after-exit ignored',
        '',
      ].join('\n'),
    );
    expectClean(first);
    expect(first.stdout).toBe(
      [
        'OK',
        'hello   wide world',
        'OK',
        POEM,
        '(nil)',
        'OK',
        '(integer) 1',
        '(integer) 0',
        '(integer) 1',
        '(integer) 0',
        "(error) ERR: unknown command 'FLY' (type HELP)",
        '(error) ERR: wrong number of arguments for GET (usage: GET key)',
        '',
      ].join('\n'),
    );

    const second = await runCli(
      ['repl', '--dir', dir, '--sentinel', '.', '--durability', 'always'],
      [
        'GET poem',
        'GET greeting',
        'EXISTS doomed',
        'EXISTS after-exit',
        'SET dotted',
        'END is just text here',
        'END',
        '.',
        'EXIT',
        '',
      ].join('\n'),
    );
    expectClean(second);
    expect(second.stdout).toBe(`${POEM}\nhello   wide world\n(integer) 0\n(integer) 0\nOK\n`);

    // COMPACT merges what the runs wrote; nothing changes for the reader.
    const compacted = await runCli(['repl', '--dir', dir], 'COMPACT\nGET greeting\n');
    expectClean(compacted);
    expect(compacted.stdout).toMatch(/^OK: merged \d+ segments, \d+ -> \d+ bytes, /);
    expect(compacted.stdout.endsWith('\nhello   wide world\n')).toBe(true);

    const third = await runCli(['repl', '--dir', dir], 'GET dotted\nSTATS\n');
    expectClean(third);
    const expectedHead = 'END is just text here\nEND\n';
    expect(third.stdout.startsWith(expectedHead)).toBe(true);
    const stats = JSON.parse(third.stdout.slice(expectedHead.length)) as { keys: number };
    expect(stats.keys).toBe(3);
  });

  it('treats end of input without EXIT as EXIT: flushes, closes, exits 0', async () => {
    const dir = await tempDir();
    const first = await runCli(
      ['repl', '--dir', dir, '--durability', 'no'],
      'SET k v1\nSET k v2\nSET blank \nSET multi\na\n\nb\nEND',
    );
    expectClean(first);
    expect(first.stdout).toBe('OK\nOK\nOK\nOK\n');
    const second = await runCli(
      ['repl', '--dir', dir],
      'GET k\nGET multi\nEXISTS blank\nGET blank',
    );
    expectClean(second);
    expect(second.stdout).toBe('v2\na\n\nb\n(integer) 1\n\n');
  });

  it('refuses a directory held by a live REPL with KV_LOCKED and a non-zero exit', async () => {
    const dir = await tempDir();
    const holder = startCli(['repl', '--dir', dir]);
    const holderRun = finished(holder);
    const opened = new Promise<void>((resolve) => {
      let seen = '';
      holder.stdout!.on('data', (chunk: string) => {
        seen += chunk;
        if (seen.includes('OK\n')) resolve();
      });
    });
    holder.stdin!.write('SET held 1\n');
    await opened;

    const second = await runCli(['repl', '--dir', dir], 'SET stolen 1\n');
    expect(second.code).not.toBe(0);
    expect(second.stdout).toBe('');
    expect(second.stderr).toMatch(/^\(error\) KV_LOCKED: .*already open/m);

    holder.stdin!.end('GET held\nGET stolen\n');
    const held = await holderRun;
    expectClean(held);
    expect(held.stdout).toBe('OK\n1\n(nil)\n');
  });

  it('lists its options in --help', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^\s+repl \[options\]/m);
    const repl = await runCli(['repl', '--help']);
    expect(repl.code).toBe(0);
    for (const option of ['--dir <path>', '--sentinel <line>', '--durability <mode>']) {
      expect(repl.stdout).toContain(option);
    }
    const bad = await runCli(['repl', '--durability', 'sometimes']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--durability');
  });
});

describe('kvd compact (built binary)', () => {
  it('merges a store offline and prints what it did as JSON; the data is unchanged', async () => {
    const dir = await tempDir();
    expectClean(await runCli(['repl', '--dir', dir], 'SET a 1\nSET a 2\nSET b 3\nDEL b\n'));
    const run = await runCli(['compact', '--dir', dir]);
    expectClean(run);
    const result = JSON.parse(run.stdout) as {
      segmentsMerged: number;
      bytesAfter: number;
      bytesBefore: number;
    };
    expect(result.segmentsMerged).toBe(1);
    expect(result.bytesAfter).toBeLessThan(result.bytesBefore);
    const after = await runCli(['repl', '--dir', dir], 'GET a\nEXISTS b\n');
    expectClean(after);
    expect(after.stdout).toBe('2\n(integer) 0\n');
  });

  it('the offline tools refuse a directory that holds no store, creating nothing', async () => {
    const empty = await tempDir();
    const missing = join(empty, 'typo');
    const runs: [string[], RegExp][] = [
      [['compact', '--dir', missing], /it does not exist; check --dir/],
      [['compact', '--dir', empty], /it holds no segment files; check --dir/],
      [['compact', '--dir', '/etc/passwd/x'], /it cannot be read \(ENOTDIR\)/],
      [['repair', '--dir', missing], /it does not exist/],
      [['backup', '--dir', missing, '--to', join(empty, 'copy')], /it does not exist/],
    ];
    for (const [args, why] of runs) {
      const run = await runCli(args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr).toMatch(/^\(error\) KV_INVALID_ARGUMENT: no kvd store in /);
      expect(run.stderr).toMatch(why);
    }
    expect(await readdir(empty)).toEqual([]);
  });
});
