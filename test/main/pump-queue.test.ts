// Tests for the daemon's pump queue (src/main/server/pump-queue.ts): connections that ask for a
// pump during one wave of microtasks are pumped once each, in order, after the microtasks
// queued before them, and one that throws does not keep the others from running.

import { describe, expect, it } from 'vitest';
import { type Pumpable, pumpSoon } from '../../dist/main/server/pump-queue.js';

/** Resolves once every microtask queued so far (and those they queue) has run. */
function afterMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('pumpSoon', () => {
  it('pumps each connection that asked, in order, after the microtasks already queued', async () => {
    const order: string[] = [];
    const named = (name: string): Pumpable => ({ runScheduledPump: () => order.push(name) });
    queueMicrotask(() => order.push('earlier microtask'));
    pumpSoon(named('a'));
    pumpSoon(named('b'));
    expect(order).toEqual([]); // never synchronously
    await afterMicrotasks();
    expect(order).toEqual(['earlier microtask', 'a', 'b']);
  });

  it('runs a connection that asks again during its pump, and later waves', async () => {
    let runs = 0;
    const again: Pumpable = {
      runScheduledPump: () => {
        runs++;
        if (runs === 1) pumpSoon(again); // its pump settled more requests
      },
    };
    pumpSoon(again);
    await afterMicrotasks();
    expect(runs).toBe(2);
    pumpSoon(again);
    await afterMicrotasks();
    expect(runs).toBe(3);
  });

  it('still pumps the others when one pump throws, and keeps working after', async () => {
    const ran: string[] = [];
    const failures: unknown[] = [];
    const onError = (error: unknown) => failures.push(error);
    process.on('uncaughtException', onError);
    try {
      pumpSoon({ runScheduledPump: () => ran.push('a') });
      pumpSoon({
        runScheduledPump: () => {
          throw new Error('pump failed');
        },
      });
      pumpSoon({ runScheduledPump: () => ran.push('c') });
      await afterMicrotasks();
      await afterMicrotasks();
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(ran).toEqual(['a', 'c']);
    expect(failures).toHaveLength(1);
    expect(String(failures[0])).toContain('pump failed');
    pumpSoon({ runScheduledPump: () => ran.push('d') });
    await afterMicrotasks();
    expect(ran).toEqual(['a', 'c', 'd']);
  });
});
