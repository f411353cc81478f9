// express-session with connect-redis's RedisStore over node-redis, unchanged, against `kvd serve`,
// driven by fetch with cookies: sessions across requests and kvd restarts (closed; kill -9), touch,
// logout, cookie maxAge as the key's expiry, the store's all/length/ids/clear (SCAN and MGET).

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { createClient } from 'redis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ServerProcess, spawnServer, startTestServer } from '../fixtures/kvd-server.js';
import { pollUntil } from '../fixtures/poll.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

declare module 'express-session' {
  interface SessionData {
    user: string;
    views: number;
  }
}

type TestServer = Awaited<ReturnType<typeof startTestServer>>;
const newClient = () => createClient({ url: `redis://127.0.0.1:${kvd.port}` });
type RedisClient = ReturnType<typeof newClient>;

/** The web application: express-session on a RedisStore whose node-redis client talks to kvd. */
interface App {
  readonly base: string;
  readonly store: RedisStore;
  readonly client: RedisClient;
  readonly http: Server;
}

let kvd: TestServer;
const apps: App[] = [];
const raws: RedisClient[] = [];
const children: ServerProcess[] = [];

async function startApp(
  options: { maxAge?: number; scanCount?: number; port?: number } = {},
): Promise<App> {
  const client = createClient({ url: `redis://127.0.0.1:${options.port ?? kvd.port}` });
  client.on('error', () => {}); // while kvd restarts; node-redis reconnects by itself
  await client.connect();
  const store = new RedisStore({ client, scanCount: options.scanCount });
  const app = express();
  app.use(
    session({
      store,
      secret: 'kvd test secret',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: options.maxAge ?? 60_000 },
    }),
  );
  app.get('/login', (req, res) => {
    req.session.user = String(req.query.user);
    req.session.views = 0;
    res.json({ id: req.sessionID });
  });
  app.get('/view', (req, res) => {
    if (!req.session.user) return void res.status(401).json({ error: 'no session' });
    req.session.views = (req.session.views ?? 0) + 1;
    res.json({ id: req.sessionID, user: req.session.user, views: req.session.views });
  });
  app.get('/peek', (req, res) => {
    if (!req.session.user) return void res.status(401).json({ error: 'no session' });
    res.json({ id: req.sessionID, user: req.session.user, views: req.session.views });
  });
  app.get('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.json({ out: true })));
  });
  const http = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = http.address() as AddressInfo;
  const started = { base: `http://127.0.0.1:${port}`, store, client, http };
  apps.push(started);
  return started;
}

async function raw(): Promise<RedisClient> {
  const client = newClient();
  raws.push(client);
  await client.connect();
  return client;
}

/** A browser's cookie jar for one site: sends the cookie it was given, keeps the newest. */
class Browser {
  cookie: string | undefined;
  constructor(private readonly app: App) {}

  async get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(this.app.base + path, {
      headers: this.cookie ? { cookie: this.cookie } : {},
    });
    const setCookie = response.headers.getSetCookie()[0];
    if (setCookie) this.cookie = setCookie.split(';')[0];
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  /** The session id the signed cookie carries (`connect.sid=s:<id>.<signature>`). */
  get sessionId(): string {
    const value = decodeURIComponent(this.cookie!.slice('connect.sid='.length));
    return /^s:([^.]+)\./.exec(value)![1]!;
  }
}

beforeEach(async () => {
  kvd = await startTestServer();
});
afterEach(async () => {
  for (const app of apps.splice(0)) {
    app.http.closeAllConnections();
    await new Promise((resolve) => app.http.close(resolve));
    if (app.client.isOpen) await app.client.close();
  }
  await Promise.all(raws.splice(0).map((client) => client.close()));
  for (const { child } of children.splice(0)) {
    child.kill('SIGTERM');
    await child.exitedWithin(10_000);
  }
  await kvd.close();
  await removeTempDirs();
});

describe('express-session with connect-redis on kvd', () => {
  it('a login creates sess:<id> in kvd and the session persists across requests', async () => {
    const app = await startApp();
    const client = await raw();
    const alice = new Browser(app);
    expect((await alice.get('/view')).status).toBe(401);
    expect(await client.dbSize()).toBe(0); // saveUninitialized: false
    const login = await alice.get('/login?user=alice');
    expect(login.status).toBe(200);
    expect(login.body.id).toBe(alice.sessionId);
    const stored = JSON.parse((await client.get(`sess:${alice.sessionId}`))!);
    expect(stored).toMatchObject({
      user: 'alice',
      views: 0,
      cookie: { httpOnly: true, path: '/' },
    });
    for (let views = 1; views <= 3; views++) {
      expect((await alice.get('/view')).body).toEqual({
        id: alice.sessionId,
        user: 'alice',
        views,
      });
    }
    expect(JSON.parse((await client.get(`sess:${alice.sessionId}`))!).views).toBe(3);

    const bob = new Browser(app);
    await bob.get('/login?user=bob');
    expect(bob.sessionId).not.toBe(alice.sessionId);
    expect((await bob.get('/view')).body).toMatchObject({ user: 'bob', views: 1 });
    expect((await alice.get('/peek')).body).toMatchObject({ user: 'alice', views: 3 });
    expect((await new Browser(app).get('/view')).status).toBe(401);
  });

  it('sessions survive a kvd restart on the same directory; the app reconnects by itself', async () => {
    const app = await startApp();
    const alice = new Browser(app);
    await alice.get('/login?user=alice');
    await alice.get('/view');
    const { dir, port } = kvd;
    await kvd.close();
    kvd = await startTestServer({ dir, port });
    expect((await alice.get('/view')).body).toEqual({
      id: alice.sessionId,
      user: 'alice',
      views: 2,
    });
    const client = await raw();
    expect(JSON.parse((await client.get(`sess:${alice.sessionId}`))!).views).toBe(2);
  });

  it('sessions survive `kvd serve` killed with SIGKILL and started again on its directory', async () => {
    const dir = await makeTempDir('sessions');
    const first = await spawnServer(['--dir', dir, '--readers', '1']);
    children.push(first);
    const app = await startApp({ port: first.port });
    const alice = new Browser(app);
    await alice.get('/login?user=alice');
    await alice.get('/view');
    expect((await alice.get('/view')).body).toMatchObject({ views: 2 });
    first.child.kill('SIGKILL');
    expect((await first.child.exited).signal).toBe('SIGKILL');
    const args = ['--dir', dir, '--readers', '1', '--port', String(first.port)];
    children.push(await spawnServer(args));
    expect((await alice.get('/view')).body).toEqual({
      id: alice.sessionId,
      user: 'alice',
      views: 3,
    });
  });

  it('cookie maxAge becomes the key expiry; an unchanged session is touched (EXPIRE), not re-saved', async () => {
    const app = await startApp({ maxAge: 60_000 });
    const client = await raw();
    const alice = new Browser(app);
    await alice.get('/login?user=alice');
    const key = `sess:${alice.sessionId}`;
    const ttl = await client.ttl(key);
    expect(ttl).toBeGreaterThanOrEqual(59);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await client.pTTL(key)).toBeLessThanOrEqual(60_000);

    await client.expire(key, 5);
    const stored = await client.get(key);
    const info = await client.info('commandstats');
    const sets = Number(/^cmdstat_set:calls=(\d+)/m.exec(info)![1]);
    expect((await alice.get('/peek')).body).toMatchObject({ user: 'alice', views: 0 });
    expect(await client.ttl(key)).toBeGreaterThanOrEqual(59); // touched before the response ended
    expect(await client.get(key)).toBe(stored);
    const after = await client.info('commandstats');
    expect(Number(/^cmdstat_set:calls=(\d+)/m.exec(after)![1])).toBe(sets);
  });

  it('kvd expires the session with its cookie; the old cookie then finds no session', async () => {
    const app = await startApp({ maxAge: 1_000 });
    const client = await raw();
    const alice = new Browser(app);
    await alice.get('/login?user=alice');
    const key = `sess:${alice.sessionId}`;
    const pttl = await client.pTTL(key);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(1_000);
    await pollUntil(
      'kvd expired the session key',
      async () => (await client.exists(key)) === 0,
      5_000,
    );
    expect((await alice.get('/view')).status).toBe(401);
  });

  it('logout destroys the session: DEL of its key, and its cookie no longer logs in', async () => {
    const app = await startApp();
    const client = await raw();
    const alice = new Browser(app);
    const bob = new Browser(app);
    await alice.get('/login?user=alice');
    await bob.get('/login?user=bob');
    const aliceCookie = alice.cookie;
    expect((await alice.get('/logout')).body).toEqual({ out: true });
    expect(await client.exists(`sess:${alice.sessionId}`)).toBe(0);
    expect(await client.exists(`sess:${bob.sessionId}`)).toBe(1);
    alice.cookie = aliceCookie;
    expect((await alice.get('/view')).status).toBe(401);
    expect((await bob.get('/view')).body).toMatchObject({ user: 'bob', views: 1 });
  });

  it("the store's all, length, ids and clear page through SCAN and read with MGET", async () => {
    const app = await startApp({ scanCount: 2 });
    const client = await raw();
    await client.set('unrelated', 'stays');
    const users = ['ann', 'ben', 'cat', 'dan', 'eve'];
    const browsers = users.map(() => new Browser(app));
    for (const [i, browser] of browsers.entries()) await browser.get(`/login?user=${users[i]}`);
    const ids = browsers.map((browser) => browser.sessionId).sort();

    const scans = async () =>
      Number(/^cmdstat_scan:calls=(\d+)/m.exec(await client.info('commandstats'))?.[1] ?? 0);
    const scansBefore = await scans();
    expect(await app.store.length()).toBe(5);
    expect((await scans()) - scansBefore).toBeGreaterThanOrEqual(3); // 6 keys, 2 a page
    expect(((await app.store.ids()) as string[]).sort()).toEqual(ids);
    const all = (await app.store.all()) as { id: string; user: string }[];
    expect(all.map(({ id, user }) => [id, user]).sort()).toEqual(
      browsers.map((browser, i) => [browser.sessionId, users[i]]).sort(),
    );
    expect(await app.store.get(browsers[0]!.sessionId)).toMatchObject({ user: 'ann' });

    await app.store.clear();
    expect(await app.store.length()).toBe(0);
    expect(await app.store.all()).toEqual([]);
    expect(await client.keys('*')).toEqual(['unrelated']);
    expect((await browsers[1]!.get('/view')).status).toBe(401);
  });
});
