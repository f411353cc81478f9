// Owns the checks of `startServer`'s options before anything opens: an option it does not know
// (at the top level or inside one) and a value of the wrong type or out of range are refused
// with `KV_INVALID_ARGUMENT` naming the option, with the ranges `kvd serve`'s flags take. The
// store's own options are the Store's to check (`Store.open`).

import { LOG_LEVELS } from '../../shared/logger.js';
import { KvError } from '../index.js';
import { refuseUnknown } from '../unknown-options.js';
import type { ReplicaBufferLimit } from './replication/replica-peer.js';
import type { MasterAddress, ReplicationOptions } from './replication/replication-state.js';
import type { RespParserLimits } from './resp-parser.js';
import type { ServerOptions } from './server-options.js';

type Shape<T> = Record<keyof T, true>;

// Every option by name. Typed as records of each shape's keys: adding an option to a shape and
// not here fails to compile.
const SERVER_OPTIONS: Shape<Required<ServerOptions>> = {
  dir: true,
  host: true,
  port: true,
  unixPath: true,
  tls: true,
  requirepass: true,
  maxClients: true,
  idleTimeoutSeconds: true,
  maxPendingReplies: true,
  limits: true,
  store: true,
  backupDir: true,
  backupBytesPerSecond: true,
  metrics: true,
  replicaOf: true,
  masterAuth: true,
  masterUser: true,
  replication: true,
  networkThreads: true,
  logger: true,
  plainGets: true,
  loneClients: true,
};
const TLS: Shape<NonNullable<ServerOptions['tls']>> = { cert: true, key: true };
const METRICS: Shape<Required<NonNullable<ServerOptions['metrics']>>> = { port: true, host: true };
const LIMITS: Shape<RespParserLimits> = {
  maxBulkBytes: true,
  maxMultibulkCount: true,
  maxInlineBytes: true,
  maxRequestBytes: true,
};
const MASTER: Shape<MasterAddress> = { host: true, port: true };
const REPLICATION: Shape<Required<ReplicationOptions>> = {
  backlogBytes: true,
  minReplicasToWrite: true,
  minReplicasMaxLag: true,
  pingPeriodSeconds: true,
  replicaBufferLimit: true,
  announceIp: true,
  announcePort: true,
};
const BUFFER_LIMIT: Shape<ReplicaBufferLimit> = {
  hardBytes: true,
  softBytes: true,
  softSeconds: true,
};

function invalid(message: string): KvError {
  return new KvError('KV_INVALID_ARGUMENT', message);
}

/**
 * Throws `KV_INVALID_ARGUMENT` naming the first option of `options` that `startServer` does not
 * know, or whose value is of the wrong type or out of range. Only `dir` is required.
 */
export function checkServerOptions(options: ServerOptions): void {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  shaped(options, SERVER_OPTIONS, '');
  const o = options as unknown as Record<string, unknown>;
  if (typeof o.dir !== 'string' || o.dir === '') throw invalid('dir must be a non-empty string');
  text(o, 'host', '');
  if (o.port !== false) integer(o, 'port', 0, 65_535, '');
  text(o, 'unixPath', '');
  if (o.tls !== undefined) {
    const tls = shaped(o.tls, TLS, 'tls.');
    for (const name of ['cert', 'key'])
      if (typeof tls[name] !== 'string' && !(tls[name] instanceof Uint8Array))
        throw invalid(`tls.${name} must be a string or a Buffer (PEM)`);
  }
  text(o, 'requirepass', '');
  integer(o, 'maxClients', 1, 1_000_000, '');
  integer(o, 'idleTimeoutSeconds', 0, 31_536_000, '');
  integer(o, 'maxPendingReplies', 1, 1_000_000, '');
  if (o.limits !== undefined) {
    const limits = shaped(o.limits, LIMITS, 'limits.');
    for (const name of Object.keys(LIMITS)) integer(limits, name, 1, 2 ** 32, 'limits.');
  }
  if (o.store !== undefined && (typeof o.store !== 'object' || o.store === null))
    throw invalid('store must be an object of Store options');
  text(o, 'backupDir', '');
  integer(o, 'backupBytesPerSecond', 0, Number.MAX_SAFE_INTEGER, '');
  if (o.metrics !== undefined) {
    const metrics = shaped(o.metrics, METRICS, 'metrics.');
    if (metrics.port === undefined) throw invalid('metrics.port is required');
    integer(metrics, 'port', 0, 65_535, 'metrics.');
    text(metrics, 'host', 'metrics.');
  }
  if (o.replicaOf !== undefined) {
    const master = shaped(o.replicaOf, MASTER, 'replicaOf.');
    if (typeof master.host !== 'string' || master.host === '')
      throw invalid('replicaOf.host must be a non-empty string');
    if (master.port === undefined) throw invalid('replicaOf.port is required');
    integer(master, 'port', 1, 65_535, 'replicaOf.');
  }
  text(o, 'masterAuth', '');
  text(o, 'masterUser', '');
  if (o.replication !== undefined)
    checkReplication(shaped(o.replication, REPLICATION, 'replication.'));
  if (o.logger !== undefined && typeof o.logger !== 'boolean') {
    const logger = o.logger as Record<string, unknown> | null;
    if (typeof logger !== 'object' || !LOG_LEVELS.every((m) => typeof logger?.[m] === 'function'))
      throw invalid('logger must be true, false or an object with debug, info, warn and error');
  }
  if (o.plainGets !== undefined && typeof o.plainGets !== 'boolean')
    throw invalid('plainGets must be a boolean');
  if (
    o.loneClients !== undefined &&
    o.loneClients !== 'when-cores-busy' &&
    o.loneClients !== 'always'
  )
    throw invalid("loneClients must be 'when-cores-busy' or 'always'");
  // networkThreads: resolveNetworkThreads and checkNetworkThreads (network-thread-count.ts).
}

function checkReplication(r: Record<string, unknown>): void {
  const at = 'replication.';
  integer(r, 'backlogBytes', 16 * 1024, 2 ** 32, at);
  integer(r, 'minReplicasToWrite', 0, 1_000, at);
  integer(r, 'minReplicasMaxLag', 1, 86_400, at);
  integer(r, 'pingPeriodSeconds', 1, 3_600, at);
  text(r, 'announceIp', at);
  integer(r, 'announcePort', 1, 65_535, at);
  if (r.replicaBufferLimit !== undefined) {
    const limit = shaped(r.replicaBufferLimit, BUFFER_LIMIT, `${at}replicaBufferLimit.`);
    for (const name of Object.keys(BUFFER_LIMIT)) {
      if (limit[name] === undefined) throw invalid(`${at}replicaBufferLimit.${name} is required`);
    }
    integer(limit, 'hardBytes', 0, Number.MAX_SAFE_INTEGER, `${at}replicaBufferLimit.`);
    integer(limit, 'softBytes', 0, Number.MAX_SAFE_INTEGER, `${at}replicaBufferLimit.`);
    integer(limit, 'softSeconds', 0, 86_400, `${at}replicaBufferLimit.`);
  }
}

/** `value` as an object whose keys are all in `known`; else throws naming the first unknown one. */
function shaped(value: unknown, known: object, prefix: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(`${prefix.slice(0, -1) || 'options'} must be an object`);
  refuseUnknown(value, known, prefix);
  return value as Record<string, unknown>;
}

/** Unless absent, `owner[name]` must be a whole number from `min` to `max`. */
function integer(
  owner: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
  prefix: string,
): void {
  const v = owner[name];
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw invalid(`${prefix}${name} must be an integer from ${min} to ${max} (got ${String(v)})`);
}

/** Unless absent, `owner[name]` must be a string. */
function text(owner: Record<string, unknown>, name: string, prefix: string): void {
  const v = owner[name];
  if (v !== undefined && typeof v !== 'string')
    throw invalid(`${prefix}${name} must be a string (got ${typeof v})`);
}
