// Owns the daemon's metrics listener (`--metrics-port`): a plain HTTP server answering
// `GET /metrics` with the registry's text (metrics-registry.ts), 404 elsewhere, and closing
// with the daemon.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { KvError, type Logger } from '../index.js';
import type { DaemonMetrics } from './metrics-registry.js';

/** Where the metrics listener listens. */
export interface MetricsListenOptions {
  /** Address to bind. */
  readonly host: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** Where the listener's errors and failed scrapes are logged. */
  readonly log: Logger;
}

/** The open metrics listener. */
export interface MetricsEndpoint {
  readonly host: string;
  /** The port actually bound. */
  readonly port: number;
  /** `http://<host>:<port>/metrics` (an IPv6 host in brackets). */
  readonly url: string;
  /** Stops listening and closes every open HTTP connection; resolves once closed. */
  close(): Promise<void>;
}

/**
 * Starts serving `metrics` at `http://<host>:<port>/metrics`. Main thread. Rejects, with nothing
 * left listening, with an error whose `code` is the listen error's (`EADDRINUSE`, `EACCES`, …)
 * and whose message names the metrics address.
 */
export async function startMetricsEndpoint(
  options: MetricsListenOptions,
  metrics: DaemonMetrics,
): Promise<MetricsEndpoint> {
  const server = createServer((request, response) => {
    answer(request, response, metrics, options.log);
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (cause: NodeJS.ErrnoException): void => {
      const error: NodeJS.ErrnoException = new Error(
        `cannot listen for metrics on ${options.host}:${options.port}: ${cause.message}`,
        { cause },
      );
      error.code = cause.code;
      reject(error);
    };
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      server.on('error', (err: Error) => options.log.error({ err }, 'metrics listener error'));
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    host: options.host,
    port,
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // keep-alive scrapers would hold it open
      }),
  };
}

function answer(
  request: IncomingMessage,
  response: ServerResponse,
  metrics: DaemonMetrics,
  log: Logger,
): void {
  const path = (request.url ?? '/').split('?', 1)[0];
  if (path !== '/metrics') {
    reply(response, 404, 'not found: the metrics are at /metrics\n');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    reply(response, 405, 'method not allowed\n');
    return;
  }
  metrics.scrape().then(
    (text) => {
      response.setHeader('Content-Type', metrics.registry.contentType);
      response.end(text); // Node sends no body for HEAD
    },
    (cause: unknown) => {
      // Closed: the daemon is shutting down; anything else is a fault worth a log line.
      const closed = cause instanceof KvError && cause.code === 'KV_CLOSED';
      if (!closed) log.error({ err: cause }, 'metrics scrape failed');
      reply(response, closed ? 503 : 500, `${closed ? 'shutting down' : 'scrape failed'}\n`);
    },
  );
}

function reply(response: ServerResponse, status: number, text: string): void {
  response.statusCode = status;
  response.setHeader('Content-Type', 'text/plain; charset=utf-8');
  response.end(text);
}
