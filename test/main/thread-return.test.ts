// Tests when a client handed back to the main thread is due to go to a network thread again
// (thread-return.ts): reads in a row of two requests or more, most of them a thread's commands
// (a read of one, or of mostly the main thread's, starts again; one that completed none does not
// count; none counts mid-read), doubled by its returns up to a cap; and what keeps it on the
// main thread when due (its session's state, unsent or unread bytes, a request half parsed).

import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ClientSession } from '../../dist/main/server/client-session.js';
import type { CommandSpec } from '../../dist/main/server/commands/command-spec.js';
import { RespParser } from '../../dist/main/server/resp-parser.js';
import {
  RETURN_READS,
  staysOnMainThread,
  ThreadReturn,
} from '../../dist/main/server/thread-return.js';

const GET = { name: 'get' } as CommandSpec;
const EXISTS = { name: 'exists' } as CommandSpec;
const SET = { name: 'set' } as CommandSpec;

/** One read of `gets` plain GETs and `others` (each parsed as its spec; undefined: unknown). */
function read(habits: ThreadReturn, gets: number, others: (CommandSpec | undefined)[] = []): void {
  habits.readStarts();
  if (gets > 0) habits.answeredGets(gets);
  for (const spec of others) habits.parsed(spec);
  expect(habits.due).toBe(false); // never mid-read
  habits.readEnds();
}

function never(): boolean {
  throw new Error('moved');
}

describe('ThreadReturn', () => {
  it("counts reads in a row of two requests or more, most of them a thread's", () => {
    const habits = new ThreadReturn(0, never);
    for (let i = 1; i < RETURN_READS; i++) read(habits, 1, [EXISTS]);
    expect(habits.due).toBe(false);
    read(habits, 0); // an unfinished request: neither counted nor a reset
    expect(habits.due).toBe(false);
    read(habits, 0, [GET, GET, SET]);
    expect(habits.due).toBe(true);
    read(habits, 1); // one request: the count starts again
    expect(habits.due).toBe(false);
    for (let i = 1; i < RETURN_READS; i++) read(habits, 2);
    read(habits, 1, [SET]); // half the main thread's: starts again
    for (let i = 1; i < RETURN_READS; i++) read(habits, 2);
    read(habits, 1, [undefined, SET]); // an unknown command is the main thread's too
    expect(habits.due).toBe(false);
    for (let i = 0; i < RETURN_READS; i++) read(habits, 3);
    expect(habits.due).toBe(true);
  });

  it('needs twice as many reads for each return before, up to 64 times as many', () => {
    const due = (returns: number): number => {
      const habits = new ThreadReturn(returns, never);
      let reads = 0;
      while (!habits.due) {
        read(habits, 2);
        reads++;
      }
      return reads;
    };
    expect([0, 1, 2, 6, 7, 40].map(due)).toEqual(
      [1, 2, 4, 64, 64, 64].map((n) => n * RETURN_READS),
    );
  });

  it('moves only with every reply sent, nothing unread, no request half parsed', () => {
    const moves: Buffer[] = [];
    const habits = new ThreadReturn(0, (_socket, _session, bytes) => {
      moves.push(bytes);
      return true;
    });
    const session = new ClientSession(1, 'here', false);
    const socket = (writableLength: number, readableLength: number): Socket =>
      ({ writableLength, readableLength }) as Socket;
    const parser = new RespParser();
    parser.push(Buffer.from('*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*2\r'));
    expect(parser.next()?.map(String)).toEqual(['GET', 'k']);
    expect(habits.moveIfFree(socket(1, 0), session, parser)).toBe(false);
    expect(habits.moveIfFree(socket(0, 1), session, parser)).toBe(false);
    expect(habits.moveIfFree(socket(0, 0), session, parser)).toBe(true);
    expect(moves.map(String)).toEqual(['*2\r']);
    parser.push(Buffer.from('\n$3\r\nGE'));
    expect(parser.next()).toBeUndefined(); // half parsed: the arguments are the parser's
    expect(habits.moveIfFree(socket(0, 0), session, parser)).toBe(false);
    parser.push(Buffer.from('T\r\n$1\r\nk\r\n'));
    expect(parser.next()?.map(String)).toEqual(['GET', 'k']);
    expect(habits.moveIfFree(socket(0, 0), session, parser)).toBe(true);
    expect(moves.map(String)).toEqual(['*2\r', '']);
  });

  it('keeps a client whose session holds what only the main thread serves', () => {
    const session = (): ClientSession => new ClientSession(1, 'here', false);
    expect(staysOnMainThread(session())).toBe(false);
    const held: ((s: ClientSession) => void)[] = [
      (s) => {
        s.authenticated = false;
      },
      (s) => {
        s.muted = true;
      },
      (s) => {
        s.isMaster = true;
      },
      (s) => s.closeAfterReply(),
      (s) => s.transaction.begin(),
      (s) => s.transaction.watch(Buffer.from('k'), undefined, 0),
      (s) => {
        s.subscriptions = { channels: new Set(['c']), patterns: new Set() };
      },
      (s) => {
        s.subscriptions = { channels: new Set(), patterns: new Set(['p*']) };
      },
    ];
    for (const hold of held) {
      const s = session();
      hold(s);
      expect(staysOnMainThread(s)).toBe(true);
    }
    const unsubscribed = session();
    unsubscribed.subscriptions = { channels: new Set(), patterns: new Set() };
    expect(staysOnMainThread(unsubscribed)).toBe(false);
  });
});
