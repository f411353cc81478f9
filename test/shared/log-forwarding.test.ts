// The forwarding logger (log-forwarding.ts) on the test thread: which lines it posts, that they
// survive a real structured clone (a MessageChannel), errors as plain objects with their code
// and stack, and a line whose fields cannot be cloned.

import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { KvError } from '../../dist/shared/errors.js';
import { forwardingLogger, logForwardedLine } from '../../dist/shared/log-forwarding.js';
import { componentLogger, lowestLevel } from '../../dist/shared/logger.js';
import type { WriterLogMessage } from '../../dist/shared/messages.js';

type Line = WriterLogMessage['kvdLog'];
const ports: MessagePort[] = [];

afterEach(() => {
  for (const port of ports.splice(0)) port.close();
});

/** A forwarding logger posting through a real MessageChannel, and the lines received so far. */
function channel(level: 'debug' | 'info' | 'warn' | 'error') {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  const received: Line[] = [];
  const waiters: (() => void)[] = [];
  port2.on('message', (message: WriterLogMessage) => {
    received.push(message.kvdLog);
    waiters.shift()?.();
  });
  const logger = forwardingLogger((message) => port1.postMessage(message), level);
  /** Resolves once `n` lines have arrived. */
  const arrived = async (n: number) => {
    while (received.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    return received;
  };
  return { logger, arrived };
}

describe('forwardingLogger', () => {
  it('posts the lines at or above its level, with their fields and message', async () => {
    const { logger, arrived } = channel('info');
    logger.debug({ n: 1 }, 'dropped');
    logger.info({ n: 2 }, 'kept');
    logger.warn('a message alone');
    logger.error({ n: 4 }, 'kept too');
    expect(await arrived(3)).toEqual([
      { level: 'info', fields: { n: 2 }, message: 'kept' },
      { level: 'warn', fields: {}, message: 'a message alone' },
      { level: 'error', fields: { n: 4 }, message: 'kept too' },
    ]);
  });

  it('turns errors in the fields into plain objects that keep their code and stack', async () => {
    const { logger, arrived } = channel('debug');
    const kv = new KvError('KV_IO', 'disk trouble');
    const io = Object.assign(new Error('no space'), { code: 'ENOSPC' });
    logger.error({ err: kv, cause: io, file: '000001.log' }, 'append failed');
    const [line] = await arrived(1);
    expect(line!.fields).toEqual({
      err: { type: 'KvError', message: 'disk trouble', code: 'KV_IO', stack: kv.stack },
      cause: { type: 'Error', message: 'no space', code: 'ENOSPC', stack: io.stack },
      file: '000001.log',
    });
  });

  it('posts a line whose fields cannot be cloned as text instead of throwing', async () => {
    const { logger, arrived } = channel('debug');
    logger.info({ callback: () => {}, n: 1 }, 'odd fields');
    const [line] = await arrived(1);
    expect(line!.message).toBe('odd fields');
    expect(line!.fields).toMatchObject({ text: '{"n":1}' });
  });

  it('hands a received line to a logger as (fields, message)', () => {
    const calls: unknown[][] = [];
    const sink = {
      debug: (...args: unknown[]) => calls.push(['debug', ...args]),
      info: (...args: unknown[]) => calls.push(['info', ...args]),
      warn: (...args: unknown[]) => calls.push(['warn', ...args]),
      error: (...args: unknown[]) => calls.push(['error', ...args]),
    };
    logForwardedLine(componentLogger(sink, 'writer'), {
      level: 'warn',
      fields: { file: 'x' },
      message: 'm',
    });
    componentLogger(sink, 'store').info('alone');
    expect(calls).toEqual([
      ['warn', { component: 'writer', file: 'x' }, 'm'],
      ['info', { component: 'store' }, 'alone'],
    ]);
  });
});

describe('lowestLevel', () => {
  it('reads a pino-style level property, and forwards everything when there is none', () => {
    const methods = { debug() {}, info() {}, warn() {}, error() {} };
    expect(lowestLevel({ ...methods, level: 'trace' } as never)).toBe('debug');
    expect(lowestLevel({ ...methods, level: 'warn' } as never)).toBe('warn');
    expect(lowestLevel({ ...methods, level: 'fatal' } as never)).toBe('error');
    expect(lowestLevel({ ...methods, level: 'silent' } as never)).toBeUndefined();
    expect(lowestLevel(methods)).toBe('debug');
  });
});
