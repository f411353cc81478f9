// Tests the daemon's RESP layer in memory: the request parser (any chunking, pipelining, inline
// quoting, every limit and protocol error, bounded memory) and the reply writer's exact bytes in
// RESP2 and RESP3.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitInline } from '../../dist/main/server/inline-command.js';
import {
  DEFAULT_PARSER_LIMITS,
  RespParser,
  type RespParserLimits,
  RespProtocolError,
} from '../../dist/main/server/resp-parser.js';
import {
  array,
  boolean,
  bulk,
  double,
  error,
  integer,
  map,
  NO_REPLY,
  NULL,
  type RespValue,
  simple,
} from '../../dist/main/server/resp-value.js';
import { type RespProtocol, RespWriter } from '../../dist/main/server/resp-writer.js';
import { encodeCommand } from '../fixtures/resp-client.js';

/** Feeds `chunks` to a parser and returns every request it yields, as arrays of strings (latin1). */
function parseAll(
  chunks: readonly (string | Buffer)[],
  limits?: Partial<RespParserLimits>,
): string[][] {
  const parser = new RespParser({ ...DEFAULT_PARSER_LIMITS, ...limits });
  const out: string[][] = [];
  for (const chunk of chunks) {
    parser.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    for (let r = parser.next(); r !== undefined; r = parser.next()) {
      out.push(r.map((a) => a.toString('latin1')));
    }
  }
  return out;
}

/** The protocol error message for `input`, or fails if it parses. */
function protocolError(input: string, limits?: Partial<RespParserLimits>): string {
  try {
    parseAll([input], limits);
  } catch (cause) {
    if (cause instanceof RespProtocolError) return cause.message;
    throw cause;
  }
  throw new Error(`expected a protocol error for ${JSON.stringify(input)}`);
}

function encode(value: RespValue, protocol: RespProtocol): string {
  const writer = new RespWriter();
  writer.write(value, protocol);
  return Buffer.concat(writer.take()).toString('latin1');
}

describe('RespParser', () => {
  it('returns the same requests however the bytes are split (property)', () => {
    const arg = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));
    // Up to 24 arguments: requests of at most 16 get an array of their size up front, others grow one.
    const requests = fc.array(fc.array(arg, { minLength: 1, maxLength: 24 }), {
      minLength: 1,
      maxLength: 20,
    });
    fc.assert(
      fc.property(requests, fc.array(fc.nat(), { maxLength: 30 }), (reqs, cuts) => {
        const bytes = Buffer.concat(reqs.map((r) => encodeCommand(r)));
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks: Buffer[] = [];
        let from = 0;
        for (const p of [...points, bytes.length]) {
          chunks.push(bytes.subarray(from, p));
          from = p;
        }
        const parsed = parseAll(chunks);
        expect(parsed).toEqual(reqs.map((r) => r.map((a) => a.toString('latin1'))));
      }),
      { numRuns: 300 },
    );
  });

  it('parses many pipelined requests from one read, mixing multibulk and inline', () => {
    expect(
      parseAll(['*1\r\n$4\r\nPING\r\nGET a\r\n\r\n*0\r\n*-1\r\nECHO x\n*2\r\n$1\r\na\r\n']),
    ).toEqual([['PING'], ['GET', 'a'], ['ECHO', 'x']]);
  });

  it('splits inline commands with Redis quoting rules', () => {
    const split = (line: string) =>
      splitInline(Buffer.from(line, 'latin1'))?.map((b) => b.toString('latin1'));
    expect(split('  SET  "a b"  \'c d\'  ')).toEqual(['SET', 'a b', 'c d']);
    expect(split('X "\\x41\\n\\t\\"q\\\\"')).toEqual(['X', 'A\n\t"q\\']);
    expect(split("X 'it\\'s'")).toEqual(['X', "it's"]);
    expect(split('X ""')).toEqual(['X', '']);
    expect(split('X a\0b c')).toEqual(['X', 'a']);
    expect(split('')).toEqual([]);
    expect(split('X "open')).toBeUndefined();
    expect(split('X "a"b')).toBeUndefined();
    expect(split("X 'a")).toBeUndefined();
    expect(protocolError('SET "a\r\n')).toBe('unbalanced quotes in request');
  });

  it('raises the protocol errors Redis raises, with its wording', () => {
    expect(protocolError('*x\r\n')).toBe('invalid multibulk length');
    expect(protocolError('*01\r\n')).toBe('invalid multibulk length');
    expect(protocolError('*1048577\r\n')).toBe('invalid multibulk length');
    expect(protocolError('*3\r\n', { maxMultibulkCount: 2 })).toBe('invalid multibulk length');
    expect(protocolError('*1\r\n+PING\r\n')).toBe("expected '$', got '+'");
    expect(protocolError('*1\r\n\x01')).toBe("expected '$', got '\\x1'");
    expect(protocolError('*1\r\n$-1\r\n')).toBe('invalid bulk length');
    expect(protocolError('*1\r\n$abc\r\n')).toBe('invalid bulk length');
    expect(protocolError('*1\r\n$11\r\n', { maxBulkBytes: 10 })).toBe('invalid bulk length');
    expect(protocolError(`GET ${'a'.repeat(100)}`, { maxInlineBytes: 64 })).toBe(
      'too big inline request',
    );
    expect(protocolError(`*${'1'.repeat(80)}`, { maxInlineBytes: 64 })).toBe(
      'too big mbulk count string',
    );
    expect(protocolError(`*1\r\n$${'1'.repeat(80)}`, { maxInlineBytes: 64 })).toBe(
      'too big bulk count string',
    );
    expect(protocolError('*3\r\n$4\r\nabcd\r\n$4\r\nabcd\r\n$4\r\n', { maxRequestBytes: 30 })).toBe(
      'request exceeds the query buffer limit',
    );
  });

  it('applies the stricter limits before AUTH', () => {
    const parser = new RespParser();
    parser.unauthenticated = true;
    parser.push(Buffer.from('*11\r\n'));
    expect(() => parser.next()).toThrow('unauthenticated multibulk length');
    const bulkParser = new RespParser();
    bulkParser.unauthenticated = true;
    bulkParser.push(Buffer.from('*2\r\n$4\r\nAUTH\r\n$16385\r\n'));
    expect(() => bulkParser.next()).toThrow('unauthenticated bulk length');
  });

  it('holds only the bytes received for a large bulk, and none once it is returned', () => {
    const parser = new RespParser();
    const length = 4 * 1024 * 1024;
    parser.push(Buffer.from(`*2\r\n$3\r\nSET\r\n$${length}\r\n`));
    expect(parser.next()).toBeUndefined();
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (let sent = 0; sent < length; sent += chunk.length) {
      expect(parser.bufferedBytes).toBe(sent); // no preallocation from the declared length
      // Gathered in one buffer grown by doubling: at most twice what arrived (64 KiB at first).
      expect(parser.retainedBytes).toBeLessThanOrEqual(Math.max(2 * sent, 64 * 1024));
      parser.push(chunk);
      expect(parser.next()).toBeUndefined();
    }
    parser.push(Buffer.from('\r\nPING\r\n'));
    const request = parser.next()!;
    expect(request[1]!.length).toBe(length);
    expect(request[1]!.every((byte) => byte === 1)).toBe(true);
    expect(parser.next()!.map(String)).toEqual(['PING']);
    expect(parser.next()).toBeUndefined();
    expect(parser.bufferedBytes).toBe(0);
    expect(parser.retainedBytes).toBe(0); // neither the bulk nor the last chunk is kept
  });

  it('hands out one copy of a repeated command name, never a view of the socket chunk', () => {
    const parser = new RespParser();
    const chunk = Buffer.from(
      '*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n' +
        '*2\r\n$3\r\nget\r\n$1\r\nc\r\n*3\r\n$3\r\nSET\r\n$1\r\nd\r\n$1\r\ne\r\n',
    );
    parser.push(chunk);
    const requests = [parser.next()!, parser.next()!, parser.next()!, parser.next()!];
    expect(requests.map((r) => r.map(String))).toEqual([
      ['GET', 'a'],
      ['GET', 'b'],
      ['get', 'c'],
      ['SET', 'd', 'e'],
    ]);
    const names = requests.map((r) => r[0]!);
    expect(names[1]).toBe(names[0]); // the same bytes: the same Buffer
    expect(names[2]).not.toBe(names[0]); // other bytes (case counts): its own
    for (const name of names) expect(name.buffer).not.toBe(chunk.buffer); // a copy
    // A name in the next chunk that repeats the last one is still that copy.
    parser.push(Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nf\r\n$1\r\ng\r\n'));
    expect(parser.next()![0]).toBe(names[3]);
  });

  it('keeps the bytes after a gathered bulk, and drops everything on release()', () => {
    const parser = new RespParser();
    parser.push(Buffer.from('*2\r\n$4\r\nECHO\r\n$100000\r\n'));
    expect(parser.next()).toBeUndefined();
    parser.push(Buffer.alloc(99_999, 2));
    expect(parser.next()).toBeUndefined();
    parser.push(Buffer.from('2\r\n*1\r\n$4\r\nPI'));
    const echo = parser.next()!;
    expect(echo[1]!.length).toBe(100_000);
    expect(echo[1]![99_999]).toBe(0x32);
    expect(parser.next()).toBeUndefined();
    expect(parser.bufferedBytes).toBe(2); // `PI`, waiting for `NG\r\n`
    parser.push(Buffer.from('NG\r\n*2\r\n$4\r\nECHO\r\n$10\r\nabc'));
    expect(parser.next()!.map(String)).toEqual(['PING']);
    expect(parser.next()).toBeUndefined();
    expect(parser.retainedBytes).toBeGreaterThan(0);
    parser.release();
    expect(parser.bufferedBytes).toBe(0);
    expect(parser.retainedBytes).toBe(0);
    parser.push(Buffer.from('PING\r\n')); // a released parser starts afresh
    expect(parser.next()!.map(String)).toEqual(['PING']);
  });
});

describe('RespWriter', () => {
  it('encodes every reply type in RESP2 and RESP3', () => {
    const cases: [RespValue, string, string][] = [
      [simple('OK'), '+OK\r\n', '+OK\r\n'],
      [error('ERR bad\r\nthing'), '-ERR bad  thing\r\n', '-ERR bad  thing\r\n'],
      [integer(-42), ':-42\r\n', ':-42\r\n'],
      [bulk('héllo'), '$6\r\nhéllo\r\n', '$6\r\nhéllo\r\n'],
      [bulk(Buffer.from([0, 13, 10])), '$3\r\n\0\r\n\r\n', '$3\r\n\0\r\n\r\n'],
      [NULL, '$-1\r\n', '_\r\n'],
      [{ kind: 'null-array' }, '*-1\r\n', '_\r\n'],
      [array([integer(1), bulk('a')]), '*2\r\n:1\r\n$1\r\na\r\n', '*2\r\n:1\r\n$1\r\na\r\n'],
      [map([[bulk('k'), integer(3)]]), '*2\r\n$1\r\nk\r\n:3\r\n', '%1\r\n$1\r\nk\r\n:3\r\n'],
      [double(1.5), '$3\r\n1.5\r\n', ',1.5\r\n'],
      [double(Number.NEGATIVE_INFINITY), '$4\r\n-inf\r\n', ',-inf\r\n'],
      [boolean(true), ':1\r\n', '#t\r\n'],
      [NO_REPLY, '', ''],
    ];
    for (const [value, resp2, resp3] of cases) {
      expect(Buffer.from(encode(value, 2), 'latin1').toString('utf8')).toBe(resp2);
      expect(Buffer.from(encode(value, 3), 'latin1').toString('utf8')).toBe(resp3);
    }
  });

  it('encodes any simple string or error as UTF-8 with CR and LF made spaces (property)', () => {
    // Short ASCII lines are copied char by char, the rest written as UTF-8: the bytes must not
    // depend on which way a text went (lengths around the 64-char cut, non-ASCII anywhere).
    const char = fc.constantFrom('a', 'Z', ' ', '\r', '\n', 'é', '€', '😀', '\u007f', '\u0080');
    fc.assert(
      fc.property(
        fc.array(char, { maxLength: 80 }).map((cs) => cs.join('')),
        fc.boolean(),
        (text, isError) => {
          const value = isError ? error(text) : simple(text);
          const expected = `${isError ? '-' : '+'}${text.replace(/[\r\n]/g, ' ')}\r\n`;
          const writer = new RespWriter();
          writer.write(simple('first'), 2);
          writer.write(value, 2);
          writer.write(integer(7), 2);
          expect(Buffer.concat(writer.take()).toString('utf8')).toBe(`+first\r\n${expected}:7\r\n`);
        },
      ),
    );
  });

  it('hands large values to the socket uncopied and merges small pieces', () => {
    const writer = new RespWriter();
    const large = Buffer.alloc(64 * 1024, 7);
    writer.write(simple('OK'), 2);
    writer.write(bulk(Buffer.from('small')), 2);
    writer.write(bulk(large), 2);
    writer.write(integer(1), 2);
    const parts = writer.take();
    expect(parts.length).toBe(3);
    expect(parts[1]).toBe(large);
    expect(Buffer.concat(parts).toString('latin1')).toBe(
      `+OK\r\n$5\r\nsmall\r\n$65536\r\n${large.toString('latin1')}\r\n:1\r\n`,
    );
    expect(writer.isEmpty).toBe(true);
    expect(writer.take()).toEqual([]);
  });

  it('writers sharing the slab each get their own bytes, never overwritten later (property)', () => {
    // What a reply must encode to, written out by hand for the kinds drawn below.
    const expected = (v: RespValue): Buffer => {
      if (v.kind === 'simple') return Buffer.from(`+${v.text}\r\n`);
      if (v.kind === 'integer') return Buffer.from(`:${v.value}\r\n`);
      if (v.kind === 'bulk' && typeof v.value !== 'string')
        return Buffer.concat([Buffer.from(`$${v.value.length}\r\n`), v.value, Buffer.from('\r\n')]);
      if (v.kind === 'array')
        return Buffer.concat([Buffer.from(`*${v.items.length}\r\n`), ...v.items.map(expected)]);
      throw new Error(`unexpected ${v.kind}`);
    };
    const small = fc.uint8Array({ maxLength: 300 }).map((a) => bulk(Buffer.from(a)));
    // Copied into the slab (under 16 KiB): a few of them fill its 64 KiB and start another.
    const medium = fc
      .tuple(fc.integer({ min: 4000, max: 16 * 1024 - 1 }), fc.integer({ min: 0, max: 255 }))
      .map(([n, b]) => bulk(Buffer.alloc(n, b)));
    // Handed over uncopied (16 KiB and more).
    const large = fc
      .tuple(fc.integer({ min: 16 * 1024, max: 40_000 }), fc.integer({ min: 0, max: 255 }))
      .map(([n, b]) => bulk(Buffer.alloc(n, b)));
    const reply = fc.oneof(
      fc.stringMatching(/^[A-Za-z ]{0,20}$/).map((t) => simple(t)),
      fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })).map(integer),
      small,
      medium,
      medium,
      large,
      fc.array(small, { maxLength: 4 }).map(array),
    );
    const step = fc.record({ writer: fc.integer({ min: 0, max: 2 }), reply, take: fc.boolean() });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const writers = [new RespWriter(), new RespWriter(), new RespWriter()];
        const wanted: Buffer[][] = [[], [], []];
        const taken: { part: Buffer; copy: Buffer }[][] = [[], [], []];
        const takeFrom = (w: number) => {
          for (const part of writers[w]!.take()) taken[w]!.push({ part, copy: Buffer.from(part) });
        };
        for (const s of steps) {
          writers[s.writer]!.write(s.reply, 2);
          wanted[s.writer]!.push(expected(s.reply));
          if (s.take) takeFrom(s.writer);
        }
        for (let w = 0; w < 3; w++) {
          takeFrom(w);
          const got = taken[w]!;
          expect(Buffer.concat(got.map((t) => t.part)).equals(Buffer.concat(wanted[w]!))).toBe(
            true,
          );
          // Bytes handed to a socket stay as they were, whatever was written after them.
          for (const t of got) expect(t.part.equals(t.copy)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});
