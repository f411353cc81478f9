// Scenario "hits": random gets of present keys, datasets A (100 B values) and B (4 KiB),
// through kvd's getSync, pooled get and getMany, and each peer's read paths.

import { GET_IN_FLIGHT, MANY_KEYS, runReadSuite } from '../lib/read-suite.js';
import type { Scenario } from '../lib/scenario.js';

export const scenario: Scenario = {
  id: 'hits',
  title: 'random get of present keys',
  async run(context, out) {
    out.note(
      `every engine reads the same 65,536 uniformly random present keys in the same order; ` +
        `rates are keys/s; pooled/async gets keep ${GET_IN_FLIGHT} calls in flight, getMany ` +
        `asks for ${MANY_KEYS} keys a call; every hit is checked for the value's length`,
    );
    await runReadSuite(context, out, 'hits', 'A', 'hit');
    await runReadSuite(context, out, 'hits', 'B', 'hit');
  },
};
