// The example in one process: it opens the kvd store itself (in-process, kvd's fastest form)
// and serves the app. `node examples/express-app/server.js` (after `npm run build`).
// Environment: PORT (default 3000), KVD_DIR (default ./data/express-app).

import { Store } from 'kvd';
import { createApp } from './app.js';

const store = await Store.open(process.env.KVD_DIR ?? './data/express-app');
const port = Number(process.env.PORT ?? 3000);
const server = createApp(store).listen(port, () => {
  console.log(`express-app on http://localhost:${server.address().port} (store ${store.dir})`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    void store.close().then(() => process.exit(0));
  });
}
