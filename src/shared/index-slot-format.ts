// The one definition of an index slot's geometry: its words and what each holds, the tag
// values that mark free slots, and how a key's hash becomes its tag. The shared index table
// (index-table.ts) lays its slot array out by it, and the index snapshot (snapshot-format.ts)
// saves and restores that array byte for byte by it.

/** u32 words in one slot. */
export const SLOT_WORDS = 4;
/** Bytes of one slot. */
export const SLOT_BYTES = SLOT_WORDS * 4;
/** Word of a slot holding its tag (the key's 32-bit hash; `EMPTY_TAG`/`DELETED_TAG` when free). */
export const SLOT_TAG = 0;
/** Word of a slot holding the record's segment handle. */
export const SLOT_HANDLE = 1;
/** Word of a slot holding the record's byte offset in its segment file. */
export const SLOT_OFFSET = 2;
/** Word of a slot holding the record's total length. */
export const SLOT_LENGTH = 3;
/** Tag of a slot never used since the table was built. */
export const EMPTY_TAG = 0;
/** Tag of a slot whose key was removed (a probe goes on past it). */
export const DELETED_TAG = 1;

/** Slot tag for a hash: the hash itself, moved off the two values that mark free slots. */
export function tagOf(hash: number): number {
  return hash < 2 ? hash + 2 : hash;
}
