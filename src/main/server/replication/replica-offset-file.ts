// Owns the file in which a replica that stops cleanly keeps its master's replication id and the
// offset it applied (`replication.json` in the store directory), so that its next start asks to
// continue (PSYNC id offset+1) instead of a full resync, as Redis keeps them in its RDB file.
// The file is written only after the store is flushed, at a clean stop and as the stream's
// checkpoint (replica-checkpoint.ts), and removed (durably) as it is read.

import { open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { MasterAddress } from './replication-state.js';

/** The file's name in the store directory. */
export const REPLICA_OFFSET_FILE = 'replication.json';

/** What the file holds. */
export interface SavedReplicaOffset {
  readonly master: MasterAddress;
  readonly replId: string;
  readonly offset: number;
}

/** Writes the file durably (a temporary file synced, renamed, and the directory synced). */
export async function saveReplicaOffset(dir: string, saved: SavedReplicaOffset): Promise<void> {
  const path = join(dir, REPLICA_OFFSET_FILE);
  const temporary = `${path}.tmp`;
  const file = await open(temporary, 'w');
  try {
    await file.writeFile(JSON.stringify(saved));
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
  await syncDirectory(dir);
}

/**
 * Reads and removes the file (the removal synced before it resolves). Undefined if there is
 * none, or it does not parse, or it names another master than `master`.
 */
export async function takeReplicaOffset(
  dir: string,
  master: MasterAddress,
): Promise<SavedReplicaOffset | undefined> {
  const path = join(dir, REPLICA_OFFSET_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  await rm(path, { force: true });
  await syncDirectory(dir);
  try {
    const saved = JSON.parse(text) as SavedReplicaOffset;
    const valid =
      saved.master?.host === master.host &&
      saved.master?.port === master.port &&
      /^[0-9a-f]{40}$/i.test(saved.replId) &&
      Number.isSafeInteger(saved.offset) &&
      saved.offset >= 0;
    return valid ? saved : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the file if there is one, durably (the directory synced). */
export async function removeReplicaOffset(dir: string): Promise<void> {
  await rm(join(dir, REPLICA_OFFSET_FILE), { force: true });
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
