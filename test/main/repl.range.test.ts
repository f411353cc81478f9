// Tests the REPL's RANGE [gte] [lt] [LIMIT n]: its grammar (parseRange), its replies against an
// in-memory store (one "key value" line per key in byte order, as GET prints values; (empty);
// usage errors), and the built `kvd repl` listing a store on disk, persisted across runs.

import { describe, expect, it } from 'vitest';
import { parseRange, ReplSession } from '../../dist/main/cli/repl.js';
import { ChildLines } from '../fixtures/child-lines.js';
import { CLI } from '../fixtures/kvd-server.js';
import { MapStore } from '../fixtures/map-repl-store.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

/** Feeds `lines` to a fresh session over `store` and returns everything it printed. */
async function converse(store: MapStore, lines: readonly string[]): Promise<string> {
  const session = new ReplSession(store);
  let output = '';
  for (const line of lines) output += (await session.handleLine(line)).output;
  return output;
}

describe('parseRange', () => {
  it('reads up to two bounds and an optional trailing LIMIT n', () => {
    expect(parseRange([])).toEqual({});
    expect(parseRange(['a'])).toEqual({ gte: 'a' });
    expect(parseRange(['a', 'b'])).toEqual({ gte: 'a', lt: 'b' });
    expect(parseRange(['LIMIT', '3'])).toEqual({ limit: 3 });
    expect(parseRange(['a', 'limit', '0'])).toEqual({ gte: 'a', limit: 0 });
    expect(parseRange(['a', 'b', 'Limit', '10'])).toEqual({ gte: 'a', lt: 'b', limit: 10 });
  });

  it('refuses anything else', () => {
    for (const args of [
      ['a', 'b', 'c'],
      ['LIMIT'],
      ['a', 'LIMIT'],
      ['LIMIT', '-1'],
      ['LIMIT', '1.5'],
      ['LIMIT', 'x'],
      ['LIMIT', '2', 'a'],
      ['a', 'b', 'c', 'LIMIT', '1'],
      ['LIMIT', '1', 'LIMIT', '2'],
    ]) {
      expect([args, parseRange(args)]).toEqual([args, undefined]);
    }
  });
});

describe('ReplSession RANGE', () => {
  it('prints "key value" lines in byte order, from gte (included) to lt (excluded), at most n', async () => {
    const store = new MapStore();
    const output = await converse(store, [
      'SET b two words',
      'SET a 1',
      'SET é accent',
      'SET c ',
      'SET B upper',
      'RANGE',
      'range a c',
      'RANGE b',
      'RANGE a LIMIT 2',
      'RANGE LIMIT 1',
      'RANGE x y',
      'RANGE a c LIMIT 0',
    ]);
    expect(output).toBe(
      [
        ...['OK', 'OK', 'OK', 'OK', 'OK'],
        // Byte order: 'B' (0x42) < 'a' < 'b' < 'c' < 'é' (0xc3 0xa9).
        ...['B upper', 'a 1', 'b two words', 'c ', 'é accent'],
        ...['a 1', 'b two words'],
        ...['b two words', 'c ', 'é accent'],
        ...['a 1', 'b two words'],
        'B upper',
        '(empty)',
        '(empty)',
        '',
      ].join('\n'),
    );
  });

  it('prints a multi-line value as GET does, and usage errors as (error) lines', async () => {
    const store = new MapStore();
    const output = await converse(store, [
      'SET doc',
      'line 1',
      'line 2',
      'END',
      'RANGE',
      'RANGE a b c',
      'RANGE LIMIT',
      'RANGE a LIMIT x',
    ]);
    const usage =
      '(error) ERR: wrong number of arguments for RANGE (usage: RANGE [gte] [lt] [LIMIT n])';
    expect(output).toBe(['OK', 'doc line 1', 'line 2', usage, usage, usage, ''].join('\n'));
  });
});

describe('kvd repl RANGE (built binary)', () => {
  it('lists the keys of the store on disk, written by an earlier run, in byte order', async () => {
    const dir = await makeTempDir('repl-range');
    try {
      const run = async (input: string): Promise<string[]> => {
        const child = new ChildLines(process.execPath, [CLI, 'repl', '--dir', dir]);
        child.child.stdin!.end(input);
        const lines = await child.rest();
        expect(await child.exited).toEqual({ code: 0, signal: null });
        return lines;
      };
      expect(await run('SET user:2 Bo\nSET user:10 Al\nSET order:1 x\nSET user:1 Cy\n')).toEqual([
        'OK',
        'OK',
        'OK',
        'OK',
      ]);
      expect(
        await run('RANGE user: user;\nRANGE user:1 LIMIT 2\nRANGE zzz\nDEL user:10\nRANGE u\n'),
      ).toEqual([
        ...['user:1 Cy', 'user:10 Al', 'user:2 Bo'],
        ...['user:1 Cy', 'user:10 Al'],
        '(empty)',
        '(integer) 1',
        ...['user:1 Cy', 'user:2 Bo'],
      ]);
    } finally {
      await removeTempDirs();
    }
  });
});
