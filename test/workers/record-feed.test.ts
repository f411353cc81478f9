// The writer's change-feed buffer: copies kept only while on, taken in push order as one
// buffer, independent of the pushed buffer (the writer reuses it), dropped when stopped.

import { describe, expect, it } from 'vitest';
import { RecordFeed } from '../../dist/workers/record-feed.js';

const bytes = (...values: number[]) => Uint8Array.from(values);

describe('RecordFeed', () => {
  it('keeps nothing while off', () => {
    const feed = new RecordFeed();
    expect(feed.on).toBe(false);
    feed.push(bytes(1, 2, 3), 0, 3);
    expect(feed.take()).toBeUndefined();
  });

  it('hands out what was pushed since the last take, in order, as one buffer', () => {
    const feed = new RecordFeed();
    feed.start();
    expect(feed.on).toBe(true);
    expect(feed.take()).toBeUndefined();
    feed.push(bytes(9, 1, 2, 9), 1, 3);
    expect(Array.from(feed.take()!)).toEqual([1, 2]);
    feed.push(bytes(3, 4), 0, 2);
    feed.push(bytes(9, 5), 1, 2);
    feed.push(bytes(6, 7, 8), 0, 3);
    expect(Array.from(feed.take()!)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(feed.take()).toBeUndefined();
  });

  it('copies: reusing the pushed buffer does not change what is taken', () => {
    const feed = new RecordFeed();
    feed.start();
    const reused = bytes(1, 2, 3);
    feed.push(reused, 0, 3);
    reused.fill(0);
    expect(Array.from(feed.take()!)).toEqual([1, 2, 3]);
  });

  it('drops what was not taken when stopped, and starting again keeps only later pushes', () => {
    const feed = new RecordFeed();
    feed.start();
    feed.push(bytes(1), 0, 1);
    feed.stop();
    expect(feed.on).toBe(false);
    expect(feed.take()).toBeUndefined();
    feed.start();
    feed.start(); // already on: keeps what it has
    feed.push(bytes(2), 0, 1);
    feed.start();
    feed.push(bytes(3), 0, 1);
    expect(Array.from(feed.take()!)).toEqual([2, 3]);
  });
});
