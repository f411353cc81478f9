// Owns how a worker's RPC method answers: its whole body runs inside one of these, so that a
// failure comes back as `{ ok: false, error }` (messages.ts's reply types) and nothing throws
// across the thread boundary.

import { serializeError } from '../shared/errors.js';
import type { ValueReply, VoidReply } from '../shared/messages.js';

/** Runs `work` and answers with its value, or with its error serialized (after `onError`). */
export async function valueReply<T>(
  work: () => T | Promise<T>,
  onError?: (error: unknown) => void,
): Promise<ValueReply<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    onError?.(error);
    return { ok: false, error: serializeError(error) };
  }
}

/** `valueReply` for work that answers nothing but success. */
export async function voidReply(
  work: () => void | Promise<void>,
  onError?: (error: unknown) => void,
): Promise<VoidReply> {
  try {
    await work();
    return { ok: true };
  } catch (error) {
    onError?.(error);
    return { ok: false, error: serializeError(error) };
  }
}
