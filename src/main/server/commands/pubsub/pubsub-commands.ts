// Owns the pub/sub family's list (README: "pubsub"): SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE,
// PUNSUBSCRIBE, PUBLISH, PUBSUB.

import type { CommandSpec } from '../command-spec.js';
import { publishCommand, pubsubCommand } from './publish.js';
import {
  psubscribeCommand,
  punsubscribeCommand,
  subscribeCommand,
  unsubscribeCommand,
} from './subscribe.js';

/** The pub/sub family, registered by `command-table.ts`. */
export const PUBSUB_COMMANDS: readonly CommandSpec[] = [
  psubscribeCommand,
  publishCommand,
  pubsubCommand,
  punsubscribeCommand,
  subscribeCommand,
  unsubscribeCommand,
];
