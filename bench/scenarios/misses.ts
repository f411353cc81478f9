// Scenario "misses": random gets of absent keys (ids between present ones) on dataset A,
// through the same read paths as "hits".

import { runReadSuite } from '../lib/read-suite.js';
import type { Scenario } from '../lib/scenario.js';

export const scenario: Scenario = {
  id: 'misses',
  title: 'random get of absent keys',
  async run(context, out) {
    out.note(
      'absent keys have odd ids, so in every ordered engine they fall between present keys ' +
        '(no shortcut past the end of the key range); every call must return undefined',
    );
    await runReadSuite(context, out, 'misses', 'A', 'miss');
  },
};
