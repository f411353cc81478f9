// Owns the bridge from Node's worker_threads ports to comlink endpoints. comlink ships its Node
// adapter as UMD without an exports map; TypeScript and Node disagree on its default export,
// so this module resolves it once for both the main thread and the writer worker. It also lets
// a thread take its own messages off a port before comlink sees them.

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

/**
 * Wraps a port as a comlink endpoint whose messages pass `take` first: comlink sees only those
 * it returns false for. The writer thread takes its `WriteRequestMessage`s this way, so comlink
 * neither unpacks them nor answers them.
 */
export function nodeEndpointExcept(
  port: AdapterTarget,
  take: (data: unknown) => boolean,
): Endpoint {
  type Listener = (data: unknown) => void;
  type PortListener = Parameters<AdapterTarget['on']>[1];
  const filtered = new Map<unknown, Listener>();
  return factory({
    postMessage: (message, transfer) => port.postMessage(message, transfer),
    on: (type, listener) => {
      // comlink's adapter listens with a function of the message's data.
      const comlinkListener = listener as unknown as Listener;
      const onMessage: Listener = (data) => {
        if (!take(data)) comlinkListener(data);
      };
      filtered.set(listener, onMessage);
      port.on(type, onMessage as unknown as PortListener);
    },
    off: (type, listener) => {
      const onMessage = filtered.get(listener);
      if (!onMessage) return;
      filtered.delete(listener);
      port.off(type, onMessage as unknown as PortListener);
    },
  });
}
