// Owns the rule for client names and library info (CLIENT SETNAME, HELLO SETNAME, CLIENT
// SETINFO): printable ASCII without spaces, as Redis requires.

/** Whether `name` is a valid client name or library field (bytes `!`..`~` only). */
export function isValidClientName(name: Uint8Array): boolean {
  for (const byte of name) if (byte < 0x21 || byte > 0x7e) return false;
  return true;
}

/** Redis's reply text for an invalid client name. */
export const INVALID_CLIENT_NAME =
  'ERR Client names cannot contain spaces, newlines or special characters.';
