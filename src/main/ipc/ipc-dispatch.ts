// Owns the answer to one IPC request: which Store method an operation calls and how its result
// travels back. Used by the kvd child (ipc-child.ts, which owns its store) and by a process that
// shares its own store with its children (ipc-share.ts).

import { KvError, type KvErrorCode, type Store } from '../index.js';
import { DESCRIBE_PROBE, type IpcOp, type IpcRequest, type IpcResults } from './ipc-messages.js';

/** The most entries one `range` request answers; RemoteStore.range asks page by page. */
export const IPC_RANGE_PAGE = 1024;

/**
 * Calls the Store method `request` names, now (in the same tick as the message arrived, so calls
 * keep their order), and resolves with what goes back to the caller. `close` is not handled here:
 * who may close the store differs between the child and a shared store.
 */
export function performRequest(store: Store, request: IpcRequest): Promise<IpcResults[IpcOp]> {
  switch (request.op) {
    case 'set':
      return store.set(request.key, request.value, request.options).then(nothing);
    case 'get':
      return store.get(request.key);
    case 'getMany':
      return store.getMany(request.keys);
    case 'has':
      return store.has(request.key);
    case 'delete':
      return store.delete(request.key);
    case 'batch':
      return store.batch(request.ops).then(nothing);
    case 'incrBy':
      return store.incrBy(request.key, request.delta);
    case 'append':
      return store.append(request.key, request.value);
    case 'setWith':
      return store.setWith(request.key, request.value, request.options);
    case 'getDelete':
      return store.getDelete(request.key);
    case 'expire':
      return store.expire(request.key, request.expiresAt, request.condition);
    case 'persist':
      return store.persist(request.key);
    case 'keys':
      return store.keys();
    case 'range':
      return rangePage(store, request.options);
    case 'clear':
      return store.clear();
    case 'flush':
      return store.flush().then(nothing);
    case 'stats':
      return store.stats();
    case 'compact':
      return store.compact();
    case 'backup':
      return store.backup(request.dir, request.options);
    case 'describe':
      return Promise.resolve({ dir: store.dir, bytes: DESCRIBE_PROBE });
    default:
      return rejectWith(
        'KV_INVALID_ARGUMENT',
        `unknown operation ${String((request as { op: unknown }).op)}`,
      );
  }
}

/** One page of a range scan: at most IPC_RANGE_PAGE entries, read from one snapshot. */
async function rangePage(
  store: Store,
  options: IpcRequest<'range'>['options'],
): Promise<IpcResults['range']> {
  const limit = options.limit;
  const bounded = limit === undefined || limit < 0 || limit > IPC_RANGE_PAGE;
  const page: IpcResults['range'] = [];
  for await (const entry of store.range(bounded ? { ...options, limit: IPC_RANGE_PAGE } : options))
    page.push(entry);
  return page;
}

function nothing(): undefined {
  return undefined;
}

/** A rejected promise with a KvError of `code`. */
export function rejectWith(code: KvErrorCode, message: string): Promise<never> {
  return Promise.reject(new KvError(code, message));
}
