// The example web application: Express 5 with kvd for sessions (KvdSessionStore), a response
// cache and a rate-limit counter. `createApp(store)` takes a kvd Store, or a RemoteStore (the
// cluster entry's workers use their primary's store through one).

import express from 'express';
import session from 'express-session';
import { KvdSessionStore } from 'kvd/session';

/**
 * The app on `store`. Options: `secret` (session cookie signing), `rateLimit` (requests a client
 * may make per window, default 100), `rateWindowMs` (default 60 s), `cacheTtlMs` (how long a
 * cached report lives, default 10 s), `report(name)` (what a report costs to make; default: a
 * small computation).
 */
export function createApp(store, options = {}) {
  const limit = options.rateLimit ?? 100;
  const windowMs = options.rateWindowMs ?? 60_000;
  const cacheTtlMs = options.cacheTtlMs ?? 10_000;
  const report = options.report ?? defaultReport;
  const app = express();
  app.set('trust proxy', false);
  app.use(rateLimit(store, limit, windowMs));
  app.use(
    session({
      store: new KvdSessionStore({ store }),
      secret: options.secret ?? 'change me: the example secret',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 30 * 60_000, httpOnly: true, sameSite: 'lax' },
    }),
  );
  app.post('/login', express.json(), (req, res, next) => {
    const user = req.body?.user;
    if (typeof user !== 'string' || user === '')
      return void res.status(400).json({ error: 'user?' });
    // A new session id at login (session fixation).
    req.session.regenerate((err) => {
      if (err) return next(err);
      req.session.user = user;
      res.json({ user });
    });
  });
  app.get('/me', (req, res) => {
    if (!req.session.user) return void res.status(401).json({ error: 'not logged in' });
    req.session.visits = (req.session.visits ?? 0) + 1;
    res.json({ user: req.session.user, visits: req.session.visits, pid: process.pid });
  });
  app.post('/logout', (req, res, next) => {
    req.session.destroy((err) => (err ? next(err) : res.json({ out: true })));
  });
  app.get('/report/:name', async (req, res) => {
    const key = `cache:report:${req.params.name}`;
    const cached = await store.get(key);
    if (cached !== undefined) {
      res.set('X-Cache', 'HIT').type('json').send(cached);
      return;
    }
    const body = Buffer.from(JSON.stringify(await report(req.params.name)));
    await store.set(key, body, { expiresAt: Date.now() + cacheTtlMs });
    res.set('X-Cache', 'MISS').type('json').send(body);
  });
  app.use((err, _req, res, _next) => {
    res.status(500).json({ error: err.code ?? 'internal', message: err.message });
  });
  return app;
}

/**
 * A fixed-window limit: one counter a client and window, `rate:<ip>:<window start>`, raised with
 * `incrBy` and given the window's end as its kvd expiry when it is created (`NX`: only if it has
 * none yet), so counters of past windows disappear by themselves.
 */
function rateLimit(store, limit, windowMs) {
  return async (req, res, next) => {
    try {
      const start = Math.floor(Date.now() / windowMs) * windowMs;
      const key = `rate:${req.ip}:${start}`;
      const count = Number(await store.incrBy(key, 1));
      if (count === 1) await store.expire(key, start + windowMs, 'NX');
      res.set('X-RateLimit-Limit', String(limit));
      res.set('X-RateLimit-Remaining', String(Math.max(0, limit - count)));
      if (count > limit) {
        res.set('Retry-After', String(Math.ceil((start + windowMs - Date.now()) / 1000)));
        return void res.status(429).json({ error: 'too many requests' });
      }
      next();
    } catch (error) {
      next(error);
    }
  };
}

async function defaultReport(name) {
  let sum = 0;
  for (let i = 0; i < 1_000_000; i++) sum = (sum + i * name.length) % 1_000_003;
  return { name, sum, madeAt: new Date().toISOString() };
}
