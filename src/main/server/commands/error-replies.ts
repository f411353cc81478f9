// Owns the argument error replies that code on any thread answers (a network thread's LCS and
// BITFIELD_RO, thread-commands.ts, as well as the main thread's handlers): no import reaches the
// store, so a network thread can load what uses them.

import { error } from '../resp-value.js';

/** `-ERR syntax error`. */
export const SYNTAX_ERROR = error('ERR syntax error');

/** `-ERR value is not an integer or out of range`. */
export const NOT_AN_INTEGER = error('ERR value is not an integer or out of range');
