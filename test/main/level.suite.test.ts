// abstract-level's own conformance suite (`abstract-level/test`, written for tape) run against
// KvdLevel, on a database and again (as the suite does itself) on a sublevel of one. The suite
// is registered into a private tape harness when this file loads, so each of its tests is also
// a vitest test here; the harness runs them all in order in `beforeAll`, and each vitest test
// then checks what its tape test recorded: every assertion passed and the test ended (a plan
// not met is a failed assertion in tape). Each database gets its own directory in one temp dir.

import { createRequire } from 'node:module';
import { join } from 'node:path';
import tape from 'tape';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KvdLevel } from '../../dist/main/level/index.js';
import { makeTempDir, removeTempDirs } from '../fixtures/temp-dir.js';

/** A tape test body, as the suite writes them. */
type TestBody = (t: tape.Test) => unknown;

/** `abstract-level/test`'s entry point (untyped JavaScript). */
type Suite = (options: {
  test: (name: string, body: TestBody) => void;
  factory: (options?: Record<string, unknown>) => KvdLevel;
}) => void;

/** One assertion's result, as a tape test emits it (`result` event). */
interface TapeResult {
  readonly ok: boolean;
  readonly skip?: unknown;
  readonly name?: string;
  readonly operator?: string;
  readonly expected?: unknown;
  readonly actual?: unknown;
  readonly error?: unknown;
}

/** What one tape test of the suite recorded while it ran. */
interface Outcome {
  readonly name: string;
  /** 'db' for the first pass, 'sublevel' for the suite's second pass on sublevels. */
  readonly phase: 'db' | 'sublevel';
  passed: number;
  readonly failures: string[];
  ended: boolean;
}

const require = createRequire(import.meta.url);
const suite = require('abstract-level/test') as Suite;
const harness = tape.createHarness();

const base = await makeTempDir('level-suite');
afterAll(removeTempDirs);

/** Store options for the suite's databases: one reader thread each (the suite makes ~1,000). */
const STORE = { readers: 1 };

const outcomes: Outcome[] = [];
const databases: KvdLevel[] = [];
let phase: Outcome['phase'] = 'db';
/** The phase of the test running now (the factory is also called while registering). */
let running: Outcome['phase'] = 'db';
/** Sublevel pass: each root database the factory made, and the sublevels made of it. */
const roots = new Map<KvdLevel, { status: string }[]>();

function factory(options?: Record<string, unknown>): KvdLevel {
  const db = new KvdLevel(join(base, `db-${databases.length}`), { ...options, store: STORE });
  databases.push(db);
  if (running === 'sublevel') {
    // The suite's second pass makes a root for each sublevel and never closes it: close it
    // once every sublevel made of it is closed at the end of a test (see closeIdleRoots).
    const sublevels: { status: string }[] = [];
    roots.set(db, sublevels);
    db.hooks.newsub.add((sublevel) => void sublevels.push(sublevel));
  }
  return db;
}

async function closeIdleRoots(): Promise<void> {
  const idle = [...roots].filter(
    ([, sublevels]) => sublevels.length > 0 && sublevels.every((s) => s.status === 'closed'),
  );
  for (const [root] of idle) roots.delete(root);
  await Promise.all(idle.map(([root]) => root.close()));
}

function register(name: string, body: TestBody): void {
  // The second pass starts where the suite's first test comes round again.
  if (outcomes.length > 0 && name === outcomes[0]!.name) phase = 'sublevel';
  const outcome: Outcome = {
    name,
    phase,
    passed: 0,
    failures: [],
    ended: false,
  };
  outcomes.push(outcome);
  const t = harness(name, (t: tape.Test) => {
    running = outcome.phase;
    if (running === 'sublevel') t.teardown(closeIdleRoots);
    return body(t);
  });
  t.on('result', (result: unknown) => {
    if (typeof result !== 'object' || result === null) return;
    const r = result as TapeResult;
    if (r.ok || r.skip) outcome.passed++;
    else outcome.failures.push(describeFailure(r));
  });
  t.on('end', () => {
    outcome.ended = true;
  });
}

function describeFailure(r: TapeResult): string {
  const error = r.error instanceof Error ? `: ${r.error.stack ?? r.error.message}` : '';
  return `${r.name ?? '(unnamed)'} [${r.operator ?? '?'}] expected ${String(
    JSON.stringify(r.expected),
  )}, actual ${String(JSON.stringify(r.actual))}${error}`;
}

suite({ test: register, factory });

beforeAll(async () => {
  const done = new Promise<void>((resolve) => harness.onFinish(() => resolve()));
  harness.createStream({ objectMode: true }).resume();
  await done;
}, 1_800_000);

afterAll(async () => {
  // Some suite tests leave listeners that reopen their database when it closes ("open() on
  // closed event"): drop every listener first, or the close below would start an open that
  // recreates the directory after it is removed.
  for (const db of databases) db.removeAllListeners();
  const refused = new Set<KvdLevel>();
  await Promise.all(
    databases.map(async (db) => {
      try {
        await db.close();
      } catch (error) {
        if (db.status === 'closed') return;
        if (!refusedForLockedSublevel(error)) throw error;
        // "errors from both postopen hook function and resource lock the db" locks a sublevel's
        // status on purpose, and abstract-level then refuses to close its root: close the
        // store under it directly, so no writer is left running on a removed directory.
        refused.add(db);
        await db._close();
      }
    }),
  );
  const notClosed = databases.flatMap((db, i) =>
    db.status === 'closed' || refused.has(db) ? [] : [`db-${i}`],
  );
  expect(notClosed, 'every database of the suite ends closed').toEqual([]);
});

/** Whether `error` is abstract-level refusing to close a root whose sublevel's status is locked. */
function refusedForLockedSublevel(error: unknown): boolean {
  const { code, cause } = error as { code?: unknown; cause?: { code?: unknown } };
  return code === 'LEVEL_DATABASE_NOT_CLOSED' && cause?.code === 'LEVEL_STATUS_LOCKED';
}

for (const pass of ['db', 'sublevel'] as const) {
  describe(pass === 'db' ? 'abstract-level suite on KvdLevel' : 'the same on a sublevel', () => {
    for (const outcome of outcomes.filter((o) => o.phase === pass)) {
      it(outcome.name, () => {
        expect(outcome.failures).toEqual([]);
        expect(outcome.ended, 'the tape test ended').toBe(true);
      });
    }
  });
}

it('runs the whole suite, both passes, skipping none', () => {
  expect(outcomes.filter((o) => o.phase === 'db').length).toBeGreaterThan(500);
  expect(outcomes.filter((o) => o.phase === 'sublevel').length).toBeGreaterThan(500);
  const assertions = outcomes.reduce((sum, o) => sum + o.passed + o.failures.length, 0);
  expect(assertions).toBeGreaterThan(4000);
});
