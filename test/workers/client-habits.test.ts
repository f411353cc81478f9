// Tests what a network thread counts of a client (client-habits.ts): reads in a row of one
// request each (a read of several starts again, a read of none does not count), and requests
// the main thread ran against those answered on the thread, the two counts halved as they grow.

import { describe, expect, it } from 'vitest';
import {
  ClientHabits,
  LONE_READS_MAX,
  REMOTE_ALLOWANCE,
} from '../../dist/workers/client-habits.js';

/** One read that brought `answered` requests answered on the thread and `sent` for the main one. */
function read(habits: ClientHabits, answered: number, sent = 0): boolean {
  habits.readStarts();
  if (answered > 0) habits.answered(answered);
  if (sent > 0) habits.sent(sent);
  return habits.readEnds();
}

describe('ClientHabits', () => {
  it('counts reads in a row that each brought one request', () => {
    const habits = new ClientHabits();
    for (let i = 1; i < LONE_READS_MAX; i++) expect(read(habits, 1)).toBe(false);
    expect(read(habits, 0)).toBe(false); // an unfinished request: neither counted nor a reset
    expect(read(habits, 1)).toBe(true);
    expect(read(habits, 1, 1)).toBe(false); // two requests: the count starts again
    for (let i = 1; i < LONE_READS_MAX; i++) expect(read(habits, i % 2, 1 - (i % 2))).toBe(false);
    expect(read(habits, 0, 1)).toBe(true); // a request sent to the main thread counts as one
  });

  it('says a client mostly sends what the main thread runs, over a window that halves', () => {
    const habits = new ClientHabits();
    habits.ranByMainThread(REMOTE_ALLOWANCE - 1);
    expect(habits.mostlyForMain).toBe(false); // under the allowance
    habits.ranByMainThread(1);
    expect(habits.mostlyForMain).toBe(true);
    habits.answered(REMOTE_ALLOWANCE);
    expect(habits.mostlyForMain).toBe(false); // no more than answered here
    // Far more answered here, then the window halves both counts as they reach 65,536 together.
    habits.answered(65_536 - 2 * REMOTE_ALLOWANCE - 1);
    habits.ranByMainThread(1);
    // Without the halving: 49,185 run by the main thread against 65,503 answered here.
    for (let i = 0; i < 3; i++) habits.ranByMainThread(16_384);
    expect(habits.mostlyForMain).toBe(true);
  });
});
