// Tests the REPL on a terminal, where Ctrl-C arrives as a key: in process (runRepl with
// `terminal: true`), and the built `kvd repl` on a real pseudo-terminal made by util-linux
// `script`. Each step waits for the REPL's output before typing the next; no timers.

import { type ChildProcess, spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runRepl } from '../../dist/main/cli/repl.js';
import { CLI } from '../fixtures/kvd-server.js';
import { MapStore } from '../fixtures/map-repl-store.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const CTRL_C = '\x03';

/** Everything `stream` prints, and a way to wait for the next occurrence of a text in it. */
class Screen {
  private text = '';
  private seen = 0;
  private waiters: (() => void)[] = [];
  private ended = false;

  constructor(stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.text += chunk;
      for (const wake of this.waiters.splice(0)) wake();
    });
    stream.on('end', () => {
      this.ended = true;
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Resolves once `text` is printed after what earlier calls matched; returns what led up to it. */
  async next(text: string): Promise<string> {
    for (;;) {
      const at = this.text.indexOf(text, this.seen);
      if (at >= 0) {
        const before = this.text.slice(this.seen, at);
        this.seen = at + text.length;
        return before;
      }
      if (this.ended) throw new Error(`output ended without ${JSON.stringify(text)}:\n${this.all}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Everything printed so far. */
  get all(): string {
    return this.text;
  }
}

describe('runRepl on a terminal', () => {
  it('Ctrl-C cancels a multi-line value or the typed text and goes on; at an empty prompt it ends', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const screen = new Screen(output);
    const store = new MapStore();
    const done = runRepl(store, { input, output, terminal: true });
    await screen.next('kvd> ');
    input.write('SET poem\r');
    await screen.next('... ');
    input.write('line one\r');
    await screen.next('... ');
    input.write(`half a line${CTRL_C}`);
    await screen.next('(cancelled) poem was not set\n');
    await screen.next('kvd> ');
    expect(store.data.has('poem')).toBe(false);
    input.write('EXISTS poem\r'); // a command again, not a line of the value
    await screen.next('(integer) 0\n');
    input.write(`DEL typed${CTRL_C}`);
    await screen.next('kvd> ');
    input.write('SET blank \r');
    expect(await screen.next('OK\n')).not.toContain('... ');
    input.write('EXISTS blank\r');
    await screen.next('(integer) 1\n');
    await screen.next('kvd> ');
    input.write(CTRL_C);
    await done;
    expect([...store.data]).toEqual([['blank', '']]);
    expect(screen.all).not.toContain('(error)');
  });
});

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
afterAll(removeTempDirs);

/** Runs `kvd repl --dir <dir>` on a pseudo-terminal (util-linux `script`, which must be installed). */
function replOnTerminal(dir: string): {
  child: ChildProcess;
  screen: Screen;
  exited: Promise<number | null>;
} {
  const command = [process.execPath, CLI, 'repl', '--dir', dir].map(shellQuote).join(' ');
  // -q: no banner, -f: flush at once, -e: exit with the REPL's code, -c: run this command.
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, KVD_LOG_LEVEL: 'silent' },
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  return { child, screen: new Screen(child.stdout!), exited };
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

describe('kvd repl on a pseudo-terminal (built binary)', () => {
  it('Ctrl-C inside a multi-line value cancels it; Ctrl-C at an empty prompt quits with 0', async () => {
    const dir = await makeTempDir('repl-tty');
    const { child, screen, exited } = replOnTerminal(dir);
    const type = (text: string) => child.stdin!.write(text);
    await screen.next('kvd> ');
    type('SET kept v\r');
    await screen.next('OK\r\n'); // the terminal turns each \n into \r\n
    await screen.next('kvd> ');
    type('SET doc\r');
    await screen.next('... ');
    type('a line\r');
    await screen.next('... ');
    type(`more${CTRL_C}`);
    await screen.next('(cancelled) doc was not set\r\n');
    await screen.next('kvd> ');
    type('SET blank \r');
    await screen.next('OK\r\n');
    type('EXISTS doc\r');
    await screen.next('(integer) 0\r\n');
    type('EXISTS blank\r');
    await screen.next('(integer) 1\r\n');
    await screen.next('kvd> ');
    type(CTRL_C);
    expect(await exited).toBe(0);
    expect(screen.all).not.toContain('(error)');

    // The store was closed cleanly and holds exactly the two values.
    const again = replOnTerminal(dir);
    await again.screen.next('kvd> ');
    again.child.stdin!.write('STATS\r');
    await again.screen.next('"keys": 2');
    await again.screen.next('kvd> ');
    again.child.stdin!.write('EXIT\r');
    expect(await again.exited).toBe(0);
  });
});
