// A network thread's recogniser of plain GETs: a canonical GET of any key (up to the limit) is
// found whole and reported incomplete at every shorter prefix, with the key's exact place;
// anything else, from its first byte that cannot belong to a plain GET, is "other"; and for
// any bytes at all, a GET is reported only where the full RESP parser reads the same GET. And
// which other requests a network thread sends to the main thread (remoteRequest), with the ones
// that follow it (followingRequests).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PARSER_LIMITS, RespParser } from '../../dist/main/server/resp-parser.js';
import {
  GetRequestScan,
  SCAN_GET,
  SCAN_INCOMPLETE,
  SCAN_OTHER,
} from '../../dist/shared/get-request-scan.js';
import { REMOTE_REQUEST_MAX_BYTES } from '../../dist/shared/network-messages.js';
import {
  followingRequests,
  remoteRequest as remoteRequestWith,
} from '../../dist/workers/remote-request.js';

const MAX_KEY = 64;

function getRequest(key: Uint8Array, name = 'GET'): Buffer {
  return Buffer.concat([
    Buffer.from(`*2\r\n$3\r\n${name}\r\n$${key.length}\r\n`),
    key,
    Buffer.from('\r\n'),
  ]);
}

const keyArb = fc.uint8Array({ maxLength: MAX_KEY });
const nameArb = fc
  .tuple(fc.boolean(), fc.boolean(), fc.boolean())
  .map(([g, e, t]) => `${g ? 'G' : 'g'}${e ? 'E' : 'e'}${t ? 'T' : 't'}`);

describe('GetRequestScan', () => {
  it('finds a GET whole, after any bytes, and calls every prefix incomplete', () => {
    fc.assert(
      fc.property(keyArb, nameArb, fc.uint8Array({ maxLength: 8 }), (key, name, before) => {
        const request = getRequest(key, name);
        const bytes = Buffer.concat([before, request, Buffer.from('*1\r\n')]);
        const scan = new GetRequestScan(MAX_KEY);
        const from = before.length;
        expect(scan.scan(bytes, from, bytes.length)).toBe(SCAN_GET);
        expect(Buffer.from(bytes.subarray(scan.keyStart, scan.keyEnd))).toEqual(Buffer.from(key));
        expect(scan.next).toBe(from + request.length);
        for (let end = from; end < from + request.length; end++)
          expect(scan.scan(bytes, from, end)).toBe(SCAN_INCOMPLETE);
      }),
    );
  });

  it('calls other commands, other arities, inline requests and long keys "other"', () => {
    const scan = new GetRequestScan(MAX_KEY);
    const other = (text: string | Buffer): number => {
      const b = Buffer.from(text);
      return scan.scan(b, 0, b.length);
    };
    expect(other('*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n')).toBe(SCAN_OTHER);
    expect(other('*2\r\n$3\r\nDEL\r\n$1\r\na\r\n')).toBe(SCAN_OTHER);
    expect(other('*2\r\n$4\r\nGETX\r\n$1\r\na\r\n')).toBe(SCAN_OTHER);
    expect(other('*3\r\n$3\r\nGET\r\n$1\r\na\r\n$1\r\nb\r\n')).toBe(SCAN_OTHER);
    expect(other('GET a\r\n')).toBe(SCAN_OTHER);
    expect(other('*2\r\n$3\r\nGET\r\n$01\r\na\r\n')).toBe(SCAN_OTHER); // not canonical
    expect(other('*2\r\n$3\r\nGET\r\n$-1\r\n')).toBe(SCAN_OTHER);
    expect(other('*2\r\n$3\r\nGET\r\n$\r\n')).toBe(SCAN_OTHER);
    expect(other('*2\r\n$3\r\nGET\r\n$1\r\nab\r\n')).toBe(SCAN_OTHER); // length disagrees
    expect(other('*2\r\n$3\r\nGET\n')).toBe(SCAN_OTHER);
    expect(other('*2\r\n$3\r\nGEx')).toBe(SCAN_OTHER); // cut short, yet already not a GET
    expect(other(getRequest(Buffer.alloc(MAX_KEY + 1, 97)))).toBe(SCAN_OTHER);
    expect(other(getRequest(Buffer.alloc(MAX_KEY, 97)))).toBe(SCAN_GET);
    expect(other(getRequest(Buffer.alloc(0)))).toBe(SCAN_GET); // the empty key is a key
  });

  it('reports a GET only where the full parser reads the same GET', () => {
    // Bytes near a GET: a canonical request with one byte changed, cut, or doubled.
    const nearGet = fc
      .tuple(keyArb, nameArb, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat())
      .map(([key, name, at, byte, cut]) => {
        const b = Buffer.from(getRequest(key, name));
        b[at % b.length] = byte;
        return b.subarray(0, b.length - (cut % 3));
      });
    fc.assert(
      fc.property(fc.oneof(nearGet, fc.uint8Array({ maxLength: 40 })), (bytes) => {
        const scan = new GetRequestScan(MAX_KEY);
        if (scan.scan(bytes, 0, bytes.length) !== SCAN_GET) return;
        const parser = new RespParser();
        parser.push(Buffer.from(bytes.subarray(0, scan.next)));
        const request = parser.next();
        expect(request?.length).toBe(2);
        expect(request![0]!.toString('latin1').toLowerCase()).toBe('get');
        expect(Buffer.from(request![1]!)).toEqual(
          Buffer.from(bytes.subarray(scan.keyStart, scan.keyEnd)),
        );
        expect(parser.next()).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });
});

describe('remoteRequest', () => {
  const remoteRequest = (b: Buffer) => remoteRequestWith(b, DEFAULT_PARSER_LIMITS);
  const bytes = (...args: string[]): Buffer =>
    Buffer.concat([
      Buffer.from(`*${args.length}\r\n`),
      ...args.map((a) => Buffer.from(`$${Buffer.byteLength(a)}\r\n${a}\r\n`)),
    ]);

  it('takes the setup requests and the whole-keyspace reads whole, with their length, and others to be refused', () => {
    const ping = bytes('PING');
    expect(remoteRequest(Buffer.concat([ping, bytes('GET', 'k')]))).toMatchObject({
      length: ping.length,
    });
    expect(remoteRequest(bytes('client', 'SetInfo', 'LIB-NAME', 'x'))).toMatchObject({
      args: [
        Buffer.from('client'),
        Buffer.from('SetInfo'),
        Buffer.from('LIB-NAME'),
        Buffer.from('x'),
      ],
    });
    expect(remoteRequest(bytes('INFO', 'server'))).not.toBeUndefined();
    // Any other request whole goes to the main thread, which runs it or takes the client back.
    for (const args of [
      ['SCAN', '0'],
      ['FLUSHALL'],
      ['CLIENT', 'KILL', 'ID', '1'],
      ['SET', 'k', 'v'],
    ])
      expect(remoteRequest(bytes(...args))).toMatchObject({ local: false });
    expect(remoteRequest(bytes('TYPE', 'k'))).toMatchObject({ local: true });
    expect(remoteRequest(Buffer.from('PING\r\n'))).toBeUndefined(); // inline
    expect(remoteRequest(Buffer.from('*x\r\n'))).toBeUndefined(); // a protocol error
    // An empty request has no reply (as in Redis): what follows it decides.
    expect(remoteRequest(Buffer.from('*0\r\n'))).toBe('incomplete');
  });

  it('gathers the complete requests that follow, up to one the thread answers or a limit', () => {
    const first = bytes('SET', 'a', '1');
    const gather = (rest: Buffer, maxRequests = 100, maxBytes = 1 << 20) => {
      // The first request is already there: it counts towards the limit.
      const requests: Buffer[][] = [[Buffer.from('SET')]];
      const ends: number[] = [first.length];
      const all = Buffer.concat([first, rest]);
      followingRequests(
        all,
        first.length,
        DEFAULT_PARSER_LIMITS,
        requests,
        ends,
        maxRequests,
        maxBytes,
      );
      return {
        names: requests.slice(1).map((args) => args.map((a) => a.toString()).join(' ')),
        ends: ends.slice(1),
      };
    };
    const incr = bytes('INCR', 'a');
    const del = bytes('DEL', 'a', 'b');
    expect(gather(Buffer.concat([incr, del]))).toEqual({
      names: ['INCR a', 'DEL a b'],
      ends: [first.length + incr.length, first.length + incr.length + del.length],
    });
    // It stops at a GET or a read of the thread's (in any case), an inline request, an unfinished
    // one, a protocol error, or a limit.
    for (const stop of [
      bytes('get', 'k'),
      bytes('MGet', 'k'),
      bytes('TTL', 'k'),
      Buffer.from('PING\r\n'),
      bytes('SET', 'k', 'v').subarray(0, 10),
      Buffer.from('*x\r\n'),
    ])
      expect(gather(Buffer.concat([incr, stop, del])).names).toEqual(['INCR a']);
    expect(gather(Buffer.concat([incr, incr, incr]), 2).names).toEqual(['INCR a']);
    expect(
      gather(Buffer.concat([incr, incr, incr]), 100, first.length + incr.length).names,
    ).toEqual(['INCR a']);
    expect(gather(Buffer.alloc(0)).names).toEqual([]);
  });

  it('waits for the rest of a short request, not of a long one', () => {
    const ping = bytes('ECHO', 'x'.repeat(100));
    expect(remoteRequest(ping.subarray(0, ping.length - 3))).toBe('incomplete');
    const long = bytes('ECHO', 'x'.repeat(REMOTE_REQUEST_MAX_BYTES));
    expect(remoteRequest(long.subarray(0, long.length - 3))).toBeUndefined();
  });

  it('parses with the main thread’s limits, the stricter ones before AUTH', () => {
    // A header over the bulk limit goes back at once: the main thread answers its error.
    const limits = { ...DEFAULT_PARSER_LIMITS, maxBulkBytes: 100 };
    const header = Buffer.from('*2\r\n$4\r\nECHO\r\n$101\r\n');
    expect(remoteRequestWith(header, DEFAULT_PARSER_LIMITS)).toBe('incomplete');
    expect(remoteRequestWith(header, limits)).toBeUndefined();
    const many = bytes('CLIENT', 'SETNAME', ...Array.from({ length: 10 }, () => 'x'));
    expect(remoteRequestWith(many, DEFAULT_PARSER_LIMITS)).not.toBeUndefined();
    expect(remoteRequestWith(many, DEFAULT_PARSER_LIMITS, true)).toBeUndefined();
  });
});
