// The `kvd/server` subpath: the daemon in-process (`startServer`, what `kvd serve` runs), with
// the shapes of its options, the running server and its clients' state. Import from
// 'kvd/server'.

export type { ConnectionInfo } from './connection-options.js';
export type { NetworkThreadsSetting } from './network-thread-count.js';
export type { ReplicaBufferLimit } from './replication/replica-peer.js';
export type { MasterAddress, ReplicationOptions } from './replication/replication-state.js';
export type { RespParserLimits } from './resp-parser.js';
export { type KvdServer, type ServerOptions, startServer } from './server.js';
