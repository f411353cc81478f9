// The Express example (examples/express-app) on real kvd stores: its app driven by supertest
// (sessions, the response cache and its expiry, the rate limit and its counter's expiry), and
// both of its entries started as real processes as its README says: server.js (one process,
// in-process store) and cluster.js (workers sharing the primary's store), driven over HTTP.

import { join } from 'node:path';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../dist/main/index.js';
import { createApp } from '../../examples/express-app/app.js';
import { ChildLines } from '../fixtures/child-lines.js';
import { pollUntil } from '../fixtures/poll.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

const EXAMPLE = new URL('../../examples/express-app/', import.meta.url).pathname;
const stores: Store[] = [];
const children: ChildLines[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    child.kill('SIGKILL');
    await child.exited;
  }
  for (const store of stores.splice(0)) await store.close();
  await removeTempDirs();
});

async function openStore(): Promise<Store> {
  const store = await Store.open(await makeTempDir('express-app'), { durability: 'no' });
  stores.push(store);
  return store;
}

/** The session cookie a response set, as a browser would send it back. */
function cookieOf(response: { headers: Record<string, unknown> }): string {
  return (response.headers['set-cookie'] as string[])[0]!.split(';')[0]!;
}

describe('examples/express-app: the app', () => {
  it('logs in, counts visits in the session, and logs out', async () => {
    const agent = request.agent(createApp(await openStore()));
    await agent.get('/me').expect(401);
    await agent.post('/login').send({ user: 'ada' }).expect(200);
    expect((await agent.get('/me').expect(200)).body).toMatchObject({ user: 'ada', visits: 1 });
    expect((await agent.get('/me').expect(200)).body).toMatchObject({ user: 'ada', visits: 2 });
    await agent.post('/logout').expect(200);
    await agent.get('/me').expect(401);
    await agent.post('/login').send({}).expect(400);
  });

  it('caches a report in kvd until its expiry', async () => {
    const store = await openStore();
    let made = 0;
    const app = createApp(store, {
      cacheTtlMs: 400,
      report: (name: string) => ({ name, n: ++made }),
    });
    const first = await request(app).get('/report/sales').expect(200);
    expect(first.headers['x-cache']).toBe('MISS');
    const second = await request(app).get('/report/sales').expect(200);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.body).toEqual({ name: 'sales', n: 1 });
    expect(store.expirySync('cache:report:sales')).toBeGreaterThan(Date.now());
    await pollUntil(
      'the cached report expired',
      async () => !(await store.has('cache:report:sales')),
      5_000,
    );
    const third = await request(app).get('/report/sales').expect(200);
    expect(third.headers['x-cache']).toBe('MISS');
    expect(third.body).toEqual({ name: 'sales', n: 2 });
  });

  it('limits each client per window with a kvd counter that expires with the window', async () => {
    const store = await openStore();
    const app = createApp(store, { rateLimit: 5, rateWindowMs: 60_000 });
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      remaining.push((await request(app).get('/me').expect(401)).headers['x-ratelimit-remaining']);
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);
    const refused = await request(app).get('/me').expect(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    const [counter] = await store.keys();
    expect(String(counter)).toMatch(/^rate:.*:\d+$/);
    expect((await store.get(counter!))?.toString()).toBe('6');
    const windowStart = Number(String(counter).split(':').at(-1));
    expect(store.expirySync(counter!)).toBe(windowStart + 60_000);
  });
});

describe('examples/express-app: its entries', () => {
  /** Starts an entry with PORT=0 and resolves with its base URL, from its first line. */
  async function start(entry: string, env: Record<string, string>): Promise<string> {
    const child = new ChildLines(process.execPath, [join(EXAMPLE, entry)], { PORT: '0', ...env });
    children.push(child);
    const line = await child.expectLine();
    const url = /http:\/\/localhost:(\d+)/.exec(line)?.[0];
    if (!url) throw new Error(`unexpected first line: ${line}\n${child.stderr}`);
    return url;
  }

  it('server.js serves the app on a store in its KVD_DIR and stops on SIGTERM', async () => {
    const dir = await makeTempDir('express-app-server');
    const base = await start('server.js', { KVD_DIR: dir });
    const login = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'bo' }),
    });
    const cookie = cookieOf({ headers: { 'set-cookie': login.headers.getSetCookie() } });
    const me = await fetch(`${base}/me`, { headers: { cookie } });
    expect(await me.json()).toMatchObject({ user: 'bo', visits: 1 });
    const child = children[0]!;
    child.kill('SIGTERM');
    expect((await child.exitedWithin(10_000)).code).toBe(0);
    // The session outlives the process: it is in the store.
    const store = await Store.open(dir);
    stores.push(store);
    expect((await store.keys()).map(String).filter((k) => k.startsWith('sess:'))).toHaveLength(1);
  });

  it('cluster.js: two workers share the primary’s store, so a session follows the user across them', async () => {
    const dir = await makeTempDir('express-app-cluster');
    const base = await start('cluster.js', { KVD_DIR: dir, WORKERS: '2' });
    const login = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'cy' }),
    });
    const cookie = cookieOf({ headers: { 'set-cookie': login.headers.getSetCookie() } });
    const pids = new Set<number>();
    let visits = 0;
    // New connections are dealt round-robin to the workers: both answer within a few requests.
    while (pids.size < 2 && visits < 200) {
      const me = (await (
        await fetch(`${base}/me`, { headers: { cookie, connection: 'close' } })
      ).json()) as {
        user: string;
        visits: number;
        pid: number;
      };
      visits++;
      expect(me).toMatchObject({ user: 'cy', visits });
      pids.add(me.pid);
    }
    expect(pids.size).toBe(2);
    const child = children[0]!;
    child.kill('SIGTERM');
    expect((await child.exitedWithin(10_000)).code).toBe(0);
  });
});
