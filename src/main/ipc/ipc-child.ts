// The kvd child process entry, forked by ipc-client.ts: opens one Store, answers the parent's
// requests over the IPC channel, and exits when asked to close or when the parent goes away.
// The only file of the child that touches `process.send` and the channel's events.

import { createLogger, Store, serializeError } from '../index.js';
import { performRequest, rejectWith } from './ipc-dispatch.js';
import {
  IPC_OPEN_ID,
  type IpcChildConfig,
  type IpcReply,
  type IpcRequest,
} from './ipc-messages.js';

/** How often the watchdog checks that the parent still exists, in ms. */
const WATCHDOG_MS = 1000;
/** How long closing the store may take once the parent is gone, before exiting regardless. */
const CLOSE_BOUND_MS = 10_000;

const config = JSON.parse(process.argv[2] ?? '{}') as IpcChildConfig;
// The child's own lines follow the store's logger option (spawnStore allows only a boolean).
const log = config.options?.logger === true ? createLogger('ipc-child') : undefined;
const parentPid = process.ppid;
let store: Store | undefined;
let closing: Promise<void> | undefined;
/** Replies still being computed; the close reply waits for them so none is lost. */
const inflight = new Set<Promise<void>>();

if (typeof process.send !== 'function') {
  process.stderr.write(
    'ipc-child must be started with child_process.fork (it has no IPC channel)\n',
  );
  process.exit(2);
}

process.on('message', (message: IpcRequest) => onRequest(message));
// The channel closes when the parent exits, however it exits (SIGKILL included): close the
// store, so that nothing is left holding the directory lock.
process.on('disconnect', () => void stopWithoutParent('the IPC channel closed'));
// Belt and braces: if the parent is gone (we were re-parented) but the channel somehow lingers.
setInterval(() => {
  if (process.ppid !== parentPid) void stopWithoutParent(`the parent ${parentPid} is gone`);
}, WATCHDOG_MS).unref();
// Ctrl-C, a hangup or a service manager signals the whole process group: the parent decides
// when the store closes (close(), or its own exit, which closes the channel). SIGKILL still works.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});

const opening = Store.open(config.dir, config.options);
opening.then(
  (opened) => {
    store = opened;
    reply({ id: IPC_OPEN_ID, ok: true, value: undefined });
  },
  (error: unknown) => reply({ id: IPC_OPEN_ID, ok: false, error: serializeError(error) }, 1),
);

function onRequest(request: IpcRequest): void {
  if (request.op === 'close') {
    // Answered once the store is closed; the child exits as soon as the answer is written.
    void closeStore().then(
      () => reply({ id: request.id, ok: true, value: undefined }, 0),
      (error: unknown) => reply({ id: request.id, ok: false, error: serializeError(error) }, 1),
    );
    return;
  }
  const answer = (
    store ? performRequest(store, request) : rejectWith('KV_INTERNAL', 'the store is not open yet')
  ).then(
    (value) => reply({ id: request.id, ok: true, value }),
    (error: unknown) => reply({ id: request.id, ok: false, error: serializeError(error) }),
  );
  inflight.add(answer);
  void answer.finally(() => inflight.delete(answer));
}

/** Closes the store once (flush, sync, unlock), then waits for the replies still in flight. */
function closeStore(): Promise<void> {
  closing ??= (async () => {
    // A store still opening is closed once open (a failed open holds nothing).
    const opened = store ?? (await opening.catch(() => undefined));
    try {
      await opened?.close();
    } finally {
      await Promise.allSettled(inflight);
    }
  })();
  return closing;
}

/** The parent is gone: close the store (bounded in time) and exit. */
async function stopWithoutParent(reason: string): Promise<void> {
  if (closing !== undefined) return; // already closing on request; that path exits
  log?.info({ dir: config.dir, reason }, 'parent gone: closing the store');
  setTimeout(() => process.exit(1), CLOSE_BOUND_MS).unref();
  try {
    await closeStore();
    process.exit(0);
  } catch (error) {
    log?.error({ err: error, dir: config.dir }, 'closing the store failed');
    process.exit(1);
  }
}

/**
 * Sends `message`; with `exitCode`, exits once it is written (replies sent earlier go first:
 * the channel keeps order). A send that fails means the parent is gone, which the disconnect
 * handler deals with: the callback swallows the error (without one it would be thrown).
 */
function reply(message: IpcReply, exitCode?: number): void {
  const done = () => {
    if (exitCode !== undefined) process.exit(exitCode);
  };
  try {
    process.send!(message, done);
  } catch (error) {
    // The value could not be cloned (no Store result does that); answer with the error.
    process.send!({ id: message.id, ok: false, error: serializeError(error) }, done);
  }
}
