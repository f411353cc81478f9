// Owns publish/subscribe: which clients listen to which channels and patterns, and delivering a
// PUBLISH to them at once, out of band on their sockets (`message` / `pmessage`, an array in
// RESP2, a push in RESP3). Nothing is stored: a message reaches whoever listens now. Main thread.

import { Buffer } from 'node:buffer';
import type { ClientSession } from './client-session.js';
import { globMatch } from './glob.js';
import { array, bulk, error, integer, type RespValue } from './resp-value.js';
import { RespWriter } from './resp-writer.js';

const MESSAGE = bulk('message');
const PMESSAGE = bulk('pmessage');

/** Commands a RESP2 client may send while it listens (as Redis allows). */
const ALLOWED_WHILE_SUBSCRIBED = new Set([
  'subscribe',
  'unsubscribe',
  'psubscribe',
  'punsubscribe',
  'ping',
  'quit',
  'reset',
]);

/** A client's subscriptions, kept on its session. */
export interface Subscriptions {
  readonly channels: Set<string>;
  readonly patterns: Set<string>;
}

/** The server's channels and patterns and who listens to them. */
export class PubSub {
  private readonly channels = new Map<string, Set<ClientSession>>();
  private readonly patterns = new Map<string, Set<ClientSession>>();
  private readonly writer = new RespWriter();

  /** Subscribes `session` to each channel (`pattern`: to each pattern); one reply a name. */
  subscribe(session: ClientSession, names: readonly Buffer[], pattern: boolean): RespValue {
    const mine = this.of(session, pattern);
    const table = pattern ? this.patterns : this.channels;
    const replies = names.map((name) => {
      const key = name.toString('latin1');
      if (!mine.has(key)) {
        mine.add(key);
        let set = table.get(key);
        if (!set) {
          set = new Set();
          table.set(key, set);
        }
        set.add(session);
      }
      return push(session, [
        bulk(pattern ? 'psubscribe' : 'subscribe'),
        bulk(name),
        integer(count(session)),
      ]);
    });
    return { kind: 'sequence', items: replies };
  }

  /** Unsubscribes `session` from each name (all of its own when none is given). */
  unsubscribe(session: ClientSession, names: readonly Buffer[], pattern: boolean): RespValue {
    const mine = this.of(session, pattern);
    const keys = names.length > 0 ? names.map((n) => n.toString('latin1')) : [...mine];
    const kind = bulk(pattern ? 'punsubscribe' : 'unsubscribe');
    if (keys.length === 0) {
      return push(session, [kind, { kind: 'null' }, integer(count(session))]);
    }
    const replies = keys.map((key) => {
      this.drop(session, key, pattern);
      return push(session, [kind, bulk(Buffer.from(key, 'latin1')), integer(count(session))]);
    });
    return { kind: 'sequence', items: replies };
  }

  /** Unsubscribes `session` from every channel and pattern, answering nothing (RESET). */
  leaveAll(session: ClientSession): void {
    const s = session.subscriptions;
    if (!s) return;
    for (const key of [...s.channels]) this.drop(session, key, false);
    for (const key of [...s.patterns]) this.drop(session, key, true);
  }

  /** Delivers `message` on `channel` to every listener; answers how many got it. */
  publish(channel: Buffer, message: Buffer): number {
    let receivers = 0;
    const key = channel.toString('latin1');
    for (const session of this.channels.get(key) ?? []) {
      this.send(session, [MESSAGE, bulk(channel), bulk(message)]);
      receivers++;
    }
    for (const [pattern, sessions] of this.patterns) {
      if (!globMatch(Buffer.from(pattern, 'latin1'), channel)) continue;
      for (const session of sessions) {
        this.send(session, [
          PMESSAGE,
          bulk(Buffer.from(pattern, 'latin1')),
          bulk(channel),
          bulk(message),
        ]);
        receivers++;
      }
    }
    return receivers;
  }

  /** PUBSUB CHANNELS [pattern]: the channels with a listener. */
  activeChannels(pattern: Buffer | undefined): Buffer[] {
    return [...this.channels.keys()]
      .map((key) => Buffer.from(key, 'latin1'))
      .filter((name) => pattern === undefined || globMatch(pattern, name));
  }

  /** PUBSUB NUMSUB: listeners of a channel. */
  listeners(channel: Buffer): number {
    return this.channels.get(channel.toString('latin1'))?.size ?? 0;
  }

  /** PUBSUB NUMPAT: patterns with a listener. */
  get patternCount(): number {
    return this.patterns.size;
  }

  /**
   * The error refusing a command to a RESP2 client that listens (only (P)SUBSCRIBE,
   * (P)UNSUBSCRIBE, PING, QUIT and RESET are allowed), or undefined.
   */
  refusal(session: ClientSession, name: string): RespValue | undefined {
    if (session.protocol === 3 || count(session) === 0 || ALLOWED_WHILE_SUBSCRIBED.has(name)) {
      return undefined;
    }
    return error(
      `ERR Can't execute '${name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
    );
  }

  private of(session: ClientSession, pattern: boolean): Set<string> {
    if (!session.subscriptions) {
      const subscriptions: Subscriptions = { channels: new Set(), patterns: new Set() };
      session.subscriptions = subscriptions;
      session.closeHooks.push(() => {
        for (const key of subscriptions.channels) this.drop(session, key, false);
        for (const key of subscriptions.patterns) this.drop(session, key, true);
      });
    }
    return pattern ? session.subscriptions.patterns : session.subscriptions.channels;
  }

  private drop(session: ClientSession, key: string, pattern: boolean): void {
    const table = pattern ? this.patterns : this.channels;
    (pattern ? session.subscriptions?.patterns : session.subscriptions?.channels)?.delete(key);
    const set = table.get(key);
    if (!set) return;
    set.delete(session);
    if (set.size === 0) table.delete(key);
  }

  private send(session: ClientSession, items: RespValue[]): void {
    this.writer.write({ kind: 'push', items }, session.protocol);
    for (const part of this.writer.take()) session.raw.write(part);
  }
}

/** How many channels and patterns `session` listens to. */
export function subscriptionCount(session: ClientSession): number {
  return count(session);
}

function count(session: ClientSession): number {
  const s = session.subscriptions;
  return s ? s.channels.size + s.patterns.size : 0;
}

/** A reply of the subscribe family: a push in RESP3, an array in RESP2. */
function push(session: ClientSession, items: RespValue[]): RespValue {
  return session.protocol === 3 ? { kind: 'push', items } : array(items);
}
