// Owns the bridge from Node's worker_threads ports to comlink endpoints. comlink ships its Node
// adapter as UMD without an exports map; TypeScript and Node disagree on its default export,
// so this module resolves it once for both the main thread and the writer worker.

import type { Endpoint } from 'comlink';
import adapterModule from 'comlink/dist/umd/node-adapter.js';

type NodeEndpointFactory = typeof adapterModule.default;
type AdapterTarget = Parameters<NodeEndpointFactory>[0];

const factory: NodeEndpointFactory =
  typeof adapterModule === 'function'
    ? (adapterModule as NodeEndpointFactory)
    : adapterModule.default;

/** Wraps a Worker or MessagePort as a comlink endpoint. */
export function nodeEndpoint(port: AdapterTarget): Endpoint {
  return factory(port);
}
