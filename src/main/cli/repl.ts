// Owns the REPL's line grammar and replies (`ReplSession`, pure and testable with any store)
// and the loop that feeds it lines from a stream through node:readline (`runRepl`).

import { Buffer } from 'node:buffer';
import { createInterface } from 'node:readline';
import { type CompactionProgress, type CompactionResult, KvError } from '../index.js';
import { type ProgressBar, progressBar } from './progress-bar.js';

/** The part of `Store` the REPL uses; a `Store` satisfies it. */
export interface ReplStore {
  set(key: string, value: string): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
  delete(key: string): Promise<boolean>;
  has(key: string): Promise<boolean>;
  stats(): Promise<object>;
  compact(onProgress?: CompactionProgress): Promise<CompactionResult>;
  /** The keys from `gte` (included) to `lt` (excluded), in byte order, with their values. */
  range(
    options: ReplRange,
  ): AsyncIterable<{ readonly key: Uint8Array; readonly value: Uint8Array }>;
}

/** What `RANGE [gte] [lt] [LIMIT n]` asks of the store. */
export interface ReplRange {
  readonly gte?: string;
  readonly lt?: string;
  readonly limit?: number;
}

/** What one input line produced: text to print (each line newline-terminated; may be empty) and whether the session ended. */
export interface LineResult {
  readonly output: string;
  readonly done: boolean;
}

/** The sentinel line that ends a multi-line value unless `--sentinel` says otherwise. */
export const DEFAULT_SENTINEL = 'END';

/** Prompt shown before a command (terminal only). */
export const PROMPT = 'kvd> ';
/** Prompt shown before each line of a multi-line value (terminal only). */
export const CONTINUATION_PROMPT = '... ';

/** Command word, key, and the whitespace after each; always matches (every part may be empty). */
const COMMAND_HEAD = /^\s*(\S*)\s*(\S*)(\s*)/;

/**
 * One REPL conversation: turns each input line into the text to print. Holds the state of a
 * multi-line `SET key` (the line ends right after the key) until its sentinel line, or until
 * `cancel()`. Call `handleLine` once at a time (await each) on the thread that owns the store;
 * it never throws: store errors become `(error)` lines.
 */
export class ReplSession {
  private pending: { key: string; lines: string[] } | undefined;

  /**
   * `sentinel` is the exact line that ends a multi-line value; `bar` makes the progress bar
   * long commands draw (none by default). Throws `KV_INVALID_ARGUMENT` if the sentinel is empty
   * or holds a line break.
   */
  constructor(
    private readonly store: ReplStore,
    readonly sentinel: string = DEFAULT_SENTINEL,
    private readonly bar: (label: string) => ProgressBar = () => ({ update() {}, stop() {} }),
  ) {
    checkSentinel(sentinel);
  }

  /** The prompt for the next line: `kvd> `, or `... ` inside a multi-line value. */
  get prompt(): string {
    return this.pending ? CONTINUATION_PROMPT : PROMPT;
  }

  /** Whether a multi-line value is being entered (lines go to it until the sentinel). */
  get inValue(): boolean {
    return this.pending !== undefined;
  }

  /** Handles one input line (without its line break). */
  async handleLine(line: string): Promise<LineResult> {
    if (this.pending) return this.continueValue(line);
    const { word, key, rest, endsAfterKey } = splitCommand(line);
    if (word === '') return reply('');
    try {
      return await this.run(word.toUpperCase(), word, key, rest, endsAfterKey);
    } catch (error) {
      return reply(formatError(error));
    }
  }

  /**
   * Drops the multi-line value being entered (Ctrl-C): nothing is written. Returns the note to
   * print, or '' if no value was being entered.
   */
  cancel(): string {
    if (!this.pending) return '';
    const { key } = this.pending;
    this.pending = undefined;
    return `(cancelled) ${key} was not set\n`;
  }

  /** Called once at end of input: reports a multi-line value left without its sentinel (it is not stored). */
  end(): string {
    if (!this.pending) return '';
    const { key } = this.pending;
    this.pending = undefined;
    return errorLine(
      'ERR',
      `input ended before the sentinel line ${JSON.stringify(this.sentinel)}; ${key} was not set`,
    );
  }

  private async run(
    command: string,
    word: string,
    key: string,
    rest: string,
    endsAfterKey: boolean,
  ): Promise<LineResult> {
    switch (command) {
      case 'SET':
        if (key === '') return usage(command, 'SET key value | SET key');
        // `SET key` alone starts a multi-line value; `SET key ` (whitespace after the key and
        // nothing else) sets the empty value, like any other rest of the line.
        if (endsAfterKey) {
          this.pending = { key, lines: [] };
          return reply('');
        }
        await this.store.set(key, rest);
        return reply('OK\n');
      case 'GET': {
        if (key === '' || rest !== '') return usage(command, 'GET key');
        const value = await this.store.get(key);
        return reply(value === undefined ? '(nil)\n' : `${Buffer.from(value).toString('utf8')}\n`);
      }
      case 'DEL':
        if (key === '' || rest !== '') return usage(command, 'DEL key');
        return reply(integer(await this.store.delete(key)));
      case 'EXISTS':
        if (key === '' || rest !== '') return usage(command, 'EXISTS key');
        return reply(integer(await this.store.has(key)));
      case 'RANGE': {
        const range = parseRange(key === '' ? [] : [key, ...rest.split(/\s+/).filter(Boolean)]);
        if (range === undefined) return usage(command, RANGE_USAGE);
        let output = '';
        for await (const { key: k, value } of this.store.range(range)) {
          output += `${Buffer.from(k).toString('utf8')} ${Buffer.from(value).toString('utf8')}\n`;
        }
        return reply(output === '' ? '(empty)\n' : output);
      }
      case 'STATS':
        if (key !== '') return usage(command, 'STATS');
        return reply(`${JSON.stringify(await this.store.stats(), null, 2)}\n`);
      case 'COMPACT': {
        if (key !== '') return usage(command, 'COMPACT');
        const bar = this.bar('compacting');
        try {
          const r = await this.store.compact((p) => bar.update(p.bytesRead, p.bytesTotal));
          return reply(
            `OK: merged ${r.segmentsMerged} segments, ${r.bytesBefore} -> ${r.bytesAfter} bytes, ` +
              `${r.keysExpired} expired keys dropped, in ${r.seconds.toFixed(2)} s\n`,
          );
        } finally {
          bar.stop();
        }
      }
      case 'HELP':
        return reply(helpText(this.sentinel));
      case 'EXIT':
        if (key !== '') return usage(command, 'EXIT');
        return { output: '', done: true };
      default:
        return reply(errorLine('ERR', `unknown command '${word}' (type HELP)`));
    }
  }

  private async continueValue(line: string): Promise<LineResult> {
    const pending = this.pending!;
    if (line !== this.sentinel) {
      pending.lines.push(line);
      return reply('');
    }
    this.pending = undefined;
    try {
      await this.store.set(pending.key, pending.lines.join('\n'));
      return reply('OK\n');
    } catch (error) {
      return reply(formatError(error));
    }
  }
}

/** Where `runRepl` reads and writes. `terminal` turns on prompts and line editing. */
export interface ReplIo {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  readonly terminal: boolean;
  /** Aborting ends the session after the command in progress, as end of input does. */
  readonly signal?: AbortSignal;
}

/**
 * Reads lines from `io.input` until EXIT, end of input, Ctrl-C at an empty prompt (terminal) or
 * `io.signal`, one command at a time, and writes replies to `io.output`. On a terminal, Ctrl-C
 * inside a multi-line value cancels it (nothing is written) and Ctrl-C after typed text drops
 * the text; both print a fresh prompt. Prompts are written only when
 * `io.terminal` is true, so piped output holds replies alone. Does not close the store: the
 * caller that opened it closes it (which flushes). Main thread; never rejects for a bad command.
 */
export async function runRepl(store: ReplStore, io: ReplIo, sentinel?: string): Promise<void> {
  const session = new ReplSession(store, sentinel, (label) =>
    progressBar(label, io.output, io.terminal),
  );
  const rl = createInterface({
    input: io.input,
    output: io.terminal ? io.output : undefined,
    terminal: io.terminal,
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  const stop = (): void => rl.close();
  io.signal?.addEventListener('abort', stop, { once: true });
  const showPrompt = (): void => {
    if (!io.terminal) return;
    rl.setPrompt(session.prompt);
    rl.prompt();
  };
  // Ctrl-C (terminal only) cancels what is being entered: a multi-line value, or the text
  // typed at the prompt. At an empty prompt it ends the session, as end of input does.
  rl.on('SIGINT', () => {
    if (!session.inValue && rl.line === '') {
      stop();
      return;
    }
    rl.write(null, { ctrl: true, name: 'e' }); // to the end of what was typed, which stays shown
    rl.setPrompt('');
    io.output.write('\n');
    rl.write(null, { ctrl: true, name: 'u' }); // forget it (redraws an empty line)
    io.output.write(session.cancel());
    showPrompt();
  });
  try {
    showPrompt();
    for await (const line of rl) {
      const result = await session.handleLine(line);
      io.output.write(result.output);
      if (result.done || io.signal?.aborted) break;
      showPrompt();
    }
  } finally {
    io.signal?.removeEventListener('abort', stop);
    rl.close();
  }
  io.output.write(session.end());
}

/** The HELP text, naming `sentinel` as the line that ends a multi-line value. */
export function helpText(sentinel: string = DEFAULT_SENTINEL): string {
  return [
    'Commands (the command word is case-insensitive):',
    '  SET key value   set key to value, the rest of the line after the key; prints OK',
    `  SET key         (nothing after the key) then the value's lines, ended by a line that is`,
    `                  exactly ${sentinel}; prints OK. Ctrl-C cancels the value (nothing is set)`,
    '  GET key         print the value, or (nil)',
    '  DEL key         delete the key; prints (integer) 1 if it existed, else (integer) 0',
    '  EXISTS key      prints (integer) 1 if the key has a value, else (integer) 0',
    '  RANGE [gte] [lt] [LIMIT n]',
    '                  print the keys from gte (included) up to lt (excluded) in byte order,',
    '                  at most n of them, one "key value" line each (the value as GET prints',
    '                  it), or (empty); RANGE alone prints every key',
    '  STATS           print the store statistics as JSON',
    '  COMPACT         merge every sealed segment now (a progress bar in a terminal); prints what it did',
    '  HELP            print this help',
    '  EXIT            flush every write to disk, close the store and quit (as end of input does)',
    'Keys are whitespace-free words. A value is the rest of the line after the key and the',
    'whitespace that follows it, so "SET key " (a space after the key) sets the empty value; a',
    'multi-line value keeps its lines, blank ones included, joined by newlines (the newline',
    'before the sentinel is not part of it). Ctrl-C at an empty prompt quits, as EXIT does.',
    'Errors print as "(error) CODE: message" and the REPL goes on.',
    '',
  ].join('\n');
}

/**
 * Splits a command line into the command word, the key (the next word) and `rest`: the text
 * after the key and the whitespace that follows it, verbatim (SET's value). Missing parts are
 * empty strings. `endsAfterKey` is true when there is a key and the line ends right after it
 * (no whitespace): `SET key` then starts a multi-line value. Only the line's prefix is
 * scanned, so a long value costs one slice.
 */
export function splitCommand(line: string): {
  word: string;
  key: string;
  rest: string;
  endsAfterKey: boolean;
} {
  const head = COMMAND_HEAD.exec(line)!;
  const key = head[2]!;
  return {
    word: head[1]!,
    key,
    rest: line.slice(head[0].length),
    endsAfterKey: key !== '' && head[0].length === line.length && head[3] === '',
  };
}

const RANGE_USAGE = 'RANGE [gte] [lt] [LIMIT n]';

/**
 * The store range of `RANGE`'s arguments (after the command word): up to two bounds, then
 * optionally `LIMIT n` (the word in any case; n a non-negative decimal integer). Undefined if
 * they do not fit that grammar. `LIMIT` is always the keyword, never a bound.
 */
export function parseRange(args: readonly string[]): ReplRange | undefined {
  const at = args.findIndex((arg) => arg.toUpperCase() === 'LIMIT');
  const bounds = at === -1 ? args : args.slice(0, at);
  if (bounds.length > 2) return undefined;
  let limit: number | undefined;
  if (at !== -1) {
    const n = args[at + 1];
    if (args.length !== at + 2 || n === undefined || !/^[0-9]{1,15}$/.test(n)) return undefined;
    limit = Number(n);
  }
  const [gte, lt] = bounds;
  return {
    ...(gte !== undefined ? { gte } : {}),
    ...(lt !== undefined ? { lt } : {}),
    ...(limit !== undefined ? { limit } : {}),
  };
}

function checkSentinel(sentinel: string): void {
  if (sentinel === '' || /[\r\n]/.test(sentinel)) {
    throw new KvError('KV_INVALID_ARGUMENT', 'the sentinel must be a non-empty single line');
  }
}

function reply(output: string): LineResult {
  return { output, done: false };
}

function usage(command: string, grammar: string): LineResult {
  return reply(errorLine('ERR', `wrong number of arguments for ${command} (usage: ${grammar})`));
}

function integer(flag: boolean): string {
  return `(integer) ${flag ? 1 : 0}\n`;
}

function errorLine(code: string, message: string): string {
  return `(error) ${code}: ${message}\n`;
}

/** `(error) <code>: <message>` for a store error; anything that is not a KvError is KV_INTERNAL. */
function formatError(error: unknown): string {
  if (error instanceof KvError) return errorLine(error.code, error.message);
  return errorLine('KV_INTERNAL', error instanceof Error ? error.message : String(error));
}
