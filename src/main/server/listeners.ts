// Owns the daemon's listening sockets: TCP (plain, or TLS when a certificate is given) and a
// Unix socket, including replacing a stale Unix socket file that no live process listens on.

import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Logger } from '../index.js';

/** Where to listen. */
export interface ListenOptions {
  /** TCP host; ignored when `port` is false. */
  readonly host: string;
  /** TCP port; 0 picks a free one; false: no TCP listener. */
  readonly port: number | false;
  /** Unix socket path, if any. */
  readonly unixPath: string | undefined;
  /** PEM certificate and key: the TCP listener speaks TLS (the Unix socket stays plain). */
  readonly tls: { readonly cert: string | Buffer; readonly key: string | Buffer } | undefined;
  /** Where a listener's errors and a stale socket file's removal are logged. */
  readonly log: Logger;
}

/** The open listeners. */
export interface Listeners {
  /** The TCP port actually bound, or undefined without TCP. */
  readonly port: number | undefined;
  readonly unixPath: string | undefined;
  /** Stops accepting; resolves once every listener has closed (not waiting for clients). */
  close(): Promise<void>;
}

/**
 * Opens the listeners and passes each accepted socket to `onSocket`. Main thread. Throws the
 * listen error (EADDRINUSE, EACCES, a bad certificate, …); no listener stays open when it
 * throws, though sockets already accepted do (the caller closes them).
 */
export async function openListeners(
  options: ListenOptions,
  onSocket: (socket: Socket) => void,
): Promise<Listeners> {
  const servers: Server[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(
      servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
  };
  try {
    let port: number | undefined;
    if (options.port !== false) {
      const server = options.tls
        ? createTlsServer({ cert: options.tls.cert, key: options.tls.key }, onSocket)
        : createServer(onSocket);
      if (options.tls) {
        server.on('tlsClientError', (err: Error) =>
          options.log.debug({ err }, 'TLS handshake failed'),
        );
      }
      const wanted = options.port;
      await listen(server, options.log, () => server.listen(wanted, options.host));
      servers.push(server);
      const address = server.address();
      port = typeof address === 'object' && address ? address.port : options.port;
    }
    if (options.unixPath !== undefined) {
      const server = createServer(onSocket);
      await listenUnix(server, options.unixPath, options.log);
      servers.push(server);
    }
    return { port, unixPath: options.unixPath, close: closeAll };
  } catch (cause) {
    // Not awaited: a client accepted meanwhile would hold it open; the caller drops such clients.
    for (const server of servers) server.close();
    throw cause;
  }
}

function listen(server: Server, log: Logger, start: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      server.on('error', (err: Error) => log.error({ err }, 'listener error'));
      resolve();
    });
    start();
  });
}

/** Listens on `path`; a socket file left by a dead process is removed first, a live one is not. */
async function listenUnix(server: Server, path: string, log: Logger): Promise<void> {
  try {
    await listen(server, log, () => server.listen(path));
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'EADDRINUSE' || (await isLive(path))) throw cause;
    log.warn({ path }, 'removing a stale Unix socket file');
    rmSync(path, { force: true });
    await listen(server, log, () => server.listen(path));
  }
}

/** Whether something accepts connections on the Unix socket `path`. */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
