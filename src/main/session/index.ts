// The `kvd/session` entry point: express-session's Store on kvd.

export {
  KvdSessionStore,
  type KvdSessionStoreOptions,
  type SessionBackend,
  type SessionCallback,
  type SessionSerializer,
} from './kvd-session-store.js';
