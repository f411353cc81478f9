// Scenario "hits-loaded": the "hits" read suite on dataset A, with probes drawn uniformly from
// the key strings the application loaded (the dataset's own key array, old and scattered over
// the heap) instead of freshly made strings. A user's keys come from both places, and a cold
// string costs its cache misses where it is hashed and compared.

import { GET_IN_FLIGHT, runReadSuite } from '../lib/read-suite.js';
import type { Scenario } from '../lib/scenario.js';

export const scenario: Scenario = {
  id: 'hits-loaded',
  title: 'random get of present keys, probes from the loaded key array',
  async run(context, out) {
    out.note(
      `every engine reads the same 65,536 key strings, drawn uniformly from the array of ` +
        `1 per loaded key that the load scenario wrote from (not copies); ` +
        `pooled/async gets keep ${GET_IN_FLIGHT} calls in flight; otherwise as "hits"`,
    );
    await runReadSuite(context, out, 'hits-loaded', 'A', 'loaded');
  },
};
