// Owns the one refusal of an option a call does not know, which every checker of options
// (Store.open's, startServer's, the write methods', KvdSessionStore's) makes: a misspelt option
// must be an error, never dropped.

import { KvError } from '../shared/errors.js';

/**
 * Throws `KV_INVALID_ARGUMENT` naming the first own key of `given` that `known` (names, or an
 * object whose keys are the names) lacks: `unknown <what> <prefix><name> (the options are …)`.
 */
export function refuseUnknown(
  given: object,
  known: object | readonly string[],
  prefix = '',
  what = 'option',
): void {
  const names = Array.isArray(known) ? known : Object.keys(known);
  for (const name of Object.keys(given)) {
    if (!names.includes(name)) {
      throw new KvError(
        'KV_INVALID_ARGUMENT',
        `unknown ${what} ${prefix}${name} (the options are ${names.join(', ')})`,
      );
    }
  }
}
