// The example under node:cluster: the primary opens the kvd store and shares it with every
// worker over the cluster's IPC channel (shareStore); each worker serves the app on a
// RemoteStore for it (connectSharedStore). One process owns the directory, as kvd requires, and
// no daemon has to run beside the app. `node examples/express-app/cluster.js` (after
// `npm run build`). Environment: PORT (default 3000), KVD_DIR (default ./data/express-app),
// WORKERS (default the number of CPUs).

import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { connectSharedStore, Store, shareStore } from 'kvd';
import { createApp } from './app.js';

const port = Number(process.env.PORT ?? 3000);

if (cluster.isPrimary) {
  const store = await Store.open(process.env.KVD_DIR ?? './data/express-app');
  let stopping = false;
  // Advanced serialization, so that keys and values cross the channel as bytes.
  cluster.setupPrimary({ serialization: 'advanced' });
  cluster.on('fork', (worker) => shareStore(store, worker));
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) {
      console.error(`worker ${worker.process.pid} died (${signal ?? code}); starting another`);
      cluster.fork();
    }
  });
  const workers = Number(process.env.WORKERS ?? availableParallelism());
  for (let i = 0; i < workers; i++) cluster.fork();
  let listening = 0;
  cluster.on('listening', (_worker, address) => {
    if (++listening === workers) {
      console.log(
        `express-app on http://localhost:${address.port}: ${workers} workers, store ${store.dir}`,
      );
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      stopping = true;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
      void store.close().then(() => process.exit(0));
    });
  }
} else {
  const store = await connectSharedStore();
  createApp(store).listen(port);
}
