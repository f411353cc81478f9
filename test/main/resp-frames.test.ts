// The replica's stream framing (resp-frames.ts) against the commands it was made from: for any
// commands, encoded as RESP and cut anywhere, every complete command is found with its end,
// argument count and leading arguments (case-insensitive), an incomplete one is reported as
// such, and bytes that are not RESP throw. Also which commands count as blind writes.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBlindWrite } from '../../dist/main/server/replication/replica-checkpoint.js';
import { CommandFrame, scanCommand } from '../../dist/main/server/replication/resp-frames.js';

function encode(args: readonly Buffer[]): Buffer {
  return Buffer.concat([
    Buffer.from(`*${args.length}\r\n`),
    ...args.flatMap((a) => [Buffer.from(`$${a.length}\r\n`), a, Buffer.from('\r\n')]),
  ]);
}

const arg = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
const command = fc.array(arg, { minLength: 1, maxLength: 6 });

describe('scanCommand', () => {
  it('finds every complete command, its arguments, and stops at an incomplete one', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 8 }), fc.nat(), (commands, cutSeed) => {
        const encoded = commands.map(encode);
        const stream = Buffer.concat(encoded);
        const cut = stream.length === 0 ? 0 : cutSeed % (stream.length + 1);
        const buf = stream.subarray(0, cut);
        const frame = new CommandFrame();
        let pos = 0;
        let found = 0;
        while (scanCommand(buf, pos, frame)) {
          const args = commands[found]!;
          expect(frame.end).toBe(pos + encoded[found]!.length);
          expect(frame.argc).toBe(args.length);
          for (let i = 0; i < Math.min(args.length, 4); i++) {
            const lower = args[i]!.toString('latin1').toLowerCase();
            if (/^[a-z]*$/.test(lower)) expect(frame.argIs(buf, i, lower)).toBe(true);
            expect(frame.argIs(buf, i, `${lower}x`)).toBe(false);
          }
          pos = frame.end;
          found++;
        }
        // Exactly the commands wholly inside the cut were found.
        let whole = 0;
        for (let end = 0; whole < encoded.length && end + encoded[whole]!.length <= cut; whole++) {
          end += encoded[whole]!.length;
        }
        expect(found).toBe(whole);
      }),
    );
  });

  it('takes a bare newline as a command of no arguments, and names are matched in any case', () => {
    const buf = Buffer.from('\n*2\r\n$8\r\nRepLConf\r\n$6\r\nGETACK\r\n');
    const frame = new CommandFrame();
    expect(scanCommand(buf, 0, frame)).toBe(true);
    expect(frame).toMatchObject({ end: 1, argc: 0 });
    expect(scanCommand(buf, 1, frame)).toBe(true);
    expect(frame.argIs(buf, 0, 'replconf') && frame.argIs(buf, 1, 'getack')).toBe(true);
  });

  it('throws on bytes that are not RESP', () => {
    const frame = new CommandFrame();
    expect(() => scanCommand(Buffer.from('*1\r\n+OK\r\n'), 0, frame)).toThrow(/bulk string/);
    expect(() => scanCommand(Buffer.from('*x\r\n'), 0, frame)).toThrow(/bad length/);
    expect(() => scanCommand(Buffer.from('*1\r\n$3\rx'), 0, frame)).toThrow(/bad length/);
  });
});

describe('isBlindWrite', () => {
  const blind = (...args: string[]) => {
    const buf = encode(args.map((a) => Buffer.from(a)));
    const frame = new CommandFrame();
    scanCommand(buf, 0, frame);
    return isBlindWrite(buf, frame);
  };
  it('takes writes that overwrite what they find, and nothing else', () => {
    expect(blind('SET', 'k', 'v')).toBe(true);
    expect(blind('set', 'k', 'v', 'PXAT', '123')).toBe(true);
    expect(blind('SET', 'k', 'v', 'exat', '123')).toBe(true);
    for (const name of ['DEL', 'unlink', 'MSET', 'MULTI', 'EXEC', 'PING', 'SELECT', 'FLUSHALL']) {
      expect(blind(name, 'k')).toBe(true);
    }
    expect(blind('SET', 'k', 'v', 'PX', '100')).toBe(false); // relative: replayed later, it moves
    expect(blind('SET', 'k', 'v', 'KEEPTTL')).toBe(false);
    expect(blind('SET', 'k', 'v', 'NX')).toBe(false);
    expect(blind('SET', 'k', 'v', 'GET', 'x', 'y')).toBe(false);
    for (const name of ['INCR', 'APPEND', 'PEXPIREAT', 'INCRBYFLOAT', 'SETRANGE', 'SETS']) {
      expect(blind(name, 'k', '1')).toBe(false);
    }
  });
});
