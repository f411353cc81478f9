// KvdSessionStore (kvd/session) under a real Express 5 app with express-session, driven over
// HTTP by supertest with its cookies: login and read-back, the session's key and kvd expiry,
// expiry ending the session, touch moving only the expiry, logout, a restart of the store with
// sessions kept, all/length/ids/clear, a RemoteStore from spawnStore, and store errors.

import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { type RemoteStore, Store, spawnStore } from '../../dist/main/index.js';
import { KvdSessionStore, type SessionBackend } from '../../dist/main/session/index.js';
import { pollUntil } from '../fixtures/poll.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

declare module 'express-session' {
  interface SessionData {
    user: string;
    views: number;
  }
}

const opened: (Store | RemoteStore)[] = [];

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  await removeTempDirs();
});

async function openStore(dir?: string): Promise<Store> {
  const store = await Store.open(dir ?? (await makeTempDir('session')), { durability: 'no' });
  opened.push(store);
  return store;
}

/** The web application: login, a read that counts views, a read that changes nothing, logout. */
function makeApp(sessions: KvdSessionStore, maxAge = 60_000) {
  const app = express();
  app.use(
    session({
      store: sessions,
      secret: 'kvd test secret',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge },
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
    res.json({ user: req.session.user, views: req.session.views });
  });
  app.get('/peek', (req, res) => {
    if (!req.session.user) return void res.status(401).json({ error: 'no session' });
    res.json({ user: req.session.user, views: req.session.views });
  });
  app.get('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.json({ out: true })));
  });
  return app;
}

/** The session cookie a response set, as a browser would send it back. */
function cookieOf(response: request.Response): string {
  const set = response.headers['set-cookie'] as unknown as string[];
  return set[0]!.split(';')[0]!;
}

/** Calls a KvdSessionStore method with a Node-style callback, as a promise. */
function call<T>(
  run: (done: (error: unknown, result?: T) => void) => void,
): Promise<T | undefined> {
  return new Promise((resolve, reject) =>
    run((error, result) => (error ? reject(error) : resolve(result))),
  );
}

describe('KvdSessionStore under express-session', () => {
  it('logs in, reads the session back, and keeps it as one key expiring with its cookie', async () => {
    const store = await openStore();
    const agent = request.agent(makeApp(new KvdSessionStore({ store })));
    const before = Date.now();
    const { id } = (await agent.get('/login?user=ada').expect(200)).body as { id: string };
    expect((await agent.get('/view').expect(200)).body).toEqual({ user: 'ada', views: 1 });
    expect((await agent.get('/view').expect(200)).body).toEqual({ user: 'ada', views: 2 });
    const stored = JSON.parse((await store.get(`sess:${id}`))!.toString()) as session.SessionData;
    expect(stored.user).toBe('ada');
    expect(stored.views).toBe(2);
    const expiry = store.expirySync(`sess:${id}`)!;
    expect(expiry).toBeGreaterThanOrEqual(before + 60_000);
    expect(expiry).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(expiry).toBe(new Date(stored.cookie.expires!).getTime());
    // Another browser has no session.
    await request(makeApp(new KvdSessionStore({ store })))
      .get('/peek')
      .expect(401);
  });

  it('ends a session when its cookie expires: kvd expires the key', async () => {
    const store = await openStore();
    const app = makeApp(new KvdSessionStore({ store }), 1_500);
    const login = await request(app).get('/login?user=bob').expect(200);
    const { id } = login.body as { id: string };
    // The browser would drop the cookie once expired; the test sends it anyway, to see the store
    // refuse it.
    const cookie = cookieOf(login);
    await request(app).get('/peek').set('Cookie', cookie).expect(200);
    await pollUntil(
      'the session key expired',
      async () => (await store.get(`sess:${id}`)) === undefined,
      5_000,
    );
    await request(makeApp(new KvdSessionStore({ store })))
      .get('/peek')
      .set('Cookie', cookie)
      .expect(401);
  });

  it('touch moves only the expiry: the stored session is not rewritten', async () => {
    const store = await openStore();
    const agent = request.agent(makeApp(new KvdSessionStore({ store })));
    const { id } = (await agent.get('/login?user=cy').expect(200)).body as { id: string };
    const key = `sess:${id}`;
    const bytes = await store.get(key);
    const expiry = store.expirySync(key)!;
    await pollUntil('the clock moved on', () => Date.now() > expiry - 60_000 + 5, 1_000);
    // An unmodified session is touched, not saved (resave: false).
    expect((await agent.get('/peek').expect(200)).body).toEqual({ user: 'cy', views: 0 });
    await pollUntil('the expiry moved', () => store.expirySync(key)! > expiry, 2_000);
    expect(await store.get(key)).toEqual(bytes);
  });

  it('logout destroys the session', async () => {
    const store = await openStore();
    const agent = request.agent(makeApp(new KvdSessionStore({ store })));
    const { id } = (await agent.get('/login?user=dee').expect(200)).body as { id: string };
    await agent.get('/logout').expect(200);
    expect(await store.get(`sess:${id}`)).toBeUndefined();
    await agent.get('/peek').expect(401);
  });

  it('keeps sessions across a restart of the store', async () => {
    const dir = await makeTempDir('session-restart');
    const first = await openStore(dir);
    const before = makeApp(new KvdSessionStore({ store: first }));
    const cookie = cookieOf(await request(before).get('/login?user=eve').expect(200));
    await request(before).get('/view').set('Cookie', cookie).expect(200);
    await first.close();
    const second = await openStore(dir);
    const app = makeApp(new KvdSessionStore({ store: second }));
    expect((await request(app).get('/peek').set('Cookie', cookie).expect(200)).body).toEqual({
      user: 'eve',
      views: 1,
    });
  });

  it('lists, counts and clears the sessions under its prefix only', async () => {
    const store = await openStore();
    await store.set('sess', 'not a session');
    await store.set('other:1', 'not a session');
    const sessions = new KvdSessionStore({ store });
    const app = makeApp(sessions);
    const ids: Record<string, string> = {};
    for (const user of ['u1', 'u2', 'u3']) {
      ids[user] = (
        (await request(app).get(`/login?user=${user}`).expect(200)).body as { id: string }
      ).id;
    }
    const all = (await call<Record<string, session.SessionData>>((done) => sessions.all(done)))!;
    expect(Object.fromEntries(Object.entries(all).map(([sid, data]) => [sid, data.user]))).toEqual({
      [ids.u1!]: 'u1',
      [ids.u2!]: 'u2',
      [ids.u3!]: 'u3',
    });
    expect(await call<number>((done) => sessions.length(done))).toBe(3);
    expect(await call<string[]>((done) => sessions.ids(done))).toEqual(Object.values(ids).sort());
    await call((done) => sessions.clear(done));
    expect(await call<number>((done) => sessions.length(done))).toBe(0);
    expect((await store.keys()).map(String).sort()).toEqual(['other:1', 'sess']);
  });

  it('clears more sessions than one batch', async () => {
    const store = await openStore();
    const sessions = new KvdSessionStore({ store, prefix: 'app:s:' });
    const cookie = {
      originalMaxAge: 60_000,
      expires: new Date(Date.now() + 60_000),
    } as session.Cookie;
    await Promise.all(
      Array.from({ length: 2_345 }, (_, i) =>
        call((done) => sessions.set(`sid${i}`, { cookie, user: `u${i}`, views: 0 }, done)),
      ),
    );
    expect(await call<number>((done) => sessions.length(done))).toBe(2_345);
    await call((done) => sessions.clear(done));
    expect(await store.keys()).toEqual([]);
  });

  it('deletes a session saved with an expiry already past, and uses ttl for a browser-session cookie', async () => {
    const store = await openStore();
    const sessions = new KvdSessionStore({ store, ttl: 5_000 });
    const past = { originalMaxAge: 1, expires: new Date(Date.now() - 1) } as session.Cookie;
    await store.set('sess:old', '{}');
    await call((done) => sessions.set('old', { cookie: past, user: 'x', views: 0 }, done));
    expect(await store.get('sess:old')).toBeUndefined();
    const before = Date.now();
    const browser = { originalMaxAge: null } as unknown as session.Cookie;
    await call((done) => sessions.set('b', { cookie: browser, user: 'y', views: 0 }, done));
    const expiry = store.expirySync('sess:b')!;
    expect(expiry).toBeGreaterThanOrEqual(before + 5_000);
    expect(expiry).toBeLessThanOrEqual(Date.now() + 5_000);
  });

  it('works on a RemoteStore from spawnStore', async () => {
    const remote = await spawnStore(await makeTempDir('session-remote'), { durability: 'no' });
    opened.push(remote);
    const backend: SessionBackend = remote;
    const sessions = new KvdSessionStore({ store: backend });
    const agent = request.agent(makeApp(sessions));
    await agent.get('/login?user=fay').expect(200);
    expect((await agent.get('/view').expect(200)).body).toEqual({ user: 'fay', views: 1 });
    expect(await call<number>((done) => sessions.length(done))).toBe(1);
    await agent.get('/logout').expect(200);
    expect(await call<number>((done) => sessions.length(done))).toBe(0);
  });

  it("hands the store's errors to express-session (a closed store: KV_CLOSED, a 500)", async () => {
    const store = await openStore();
    const sessions = new KvdSessionStore({ store });
    const app = makeApp(sessions);
    const errors: unknown[] = [];
    app.use(
      (
        error: unknown,
        _req: express.Request,
        res: express.Response,
        _next: express.NextFunction,
      ) => {
        errors.push(error);
        res.status(500).end();
      },
    );
    const cookie = cookieOf(await request(app).get('/login?user=gus').expect(200));
    await store.close();
    await request(app).get('/peek').set('Cookie', cookie).expect(500);
    expect(errors).toMatchObject([{ code: 'KV_CLOSED' }]);
    await expect(call((done) => sessions.get('x', done))).rejects.toMatchObject({
      code: 'KV_CLOSED',
    });
  });

  it('refuses a missing store, an unknown option and a bad value with KV_INVALID_ARGUMENT', () => {
    const store = {} as SessionBackend;
    const refused: [unknown, string][] = [
      [{}, 'needs { store }'],
      [{ store, ttl: 0 }, 'ttl must be a positive number of ms'],
      [{ store, ttl: '5' }, 'ttl must be a positive number of ms'],
      [
        { store, maxAge: 1 },
        'unknown option maxAge (the options are store, prefix, ttl, serializer)',
      ],
      [{ store, prefix: 1 }, 'prefix must be a string'],
      [
        { store, serializer: { stringify: JSON.stringify } },
        'serializer must have stringify and parse',
      ],
    ];
    for (const [options, message] of refused) {
      expect(() => new KvdSessionStore(options as never)).toThrow(
        expect.objectContaining({
          code: 'KV_INVALID_ARGUMENT',
          message: expect.stringContaining(message),
        }),
      );
    }
  });
});
