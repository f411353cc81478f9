// Owns the writer's side of compaction: choosing the next merge (the writer owns the segment
// accounting), remembering the one merge in progress, installing a finished one (and reporting
// the damaged stretches it skipped), and forgetting an abandoned one. WriterService exposes it
// over RPC. Writer thread only.

import type {
  CompactionPolicy,
  InstallOutcome,
  MergePlan,
  MergeResult,
} from '../shared/compaction-messages.js';
import { KvError } from '../shared/errors.js';
import {
  dataFileName,
  KIND_LOG,
  KIND_SORTED,
  segmentFileName,
  sortedSegmentFileName,
} from '../shared/format.js';
import { hintFileName } from '../shared/hint-format.js';
import type { IndexTable } from '../shared/index-table.js';
import { keysFileName } from '../shared/key-run-format.js';
import type { Logger } from '../shared/logger.js';
import { chooseRun, mergeInputs } from './compaction-plan.js';
import { removeFilesDurably, TEMP_SUFFIX } from './durable-file.js';
import type { IndexPublisher } from './index-publisher.js';
import type { LogWriter } from './log-writer.js';
import { installMerge } from './merge-install.js';
import { releaseBuffer } from './release-buffer.js';
import { SegmentTable } from './segments.js';

/** What planning and installing need of the open store. */
export interface CompactionScope {
  readonly segments: SegmentTable;
  readonly index: IndexTable;
  readonly log: LogWriter;
  /** Its version log: an install waits while snapshots are held. */
  readonly publisher: IndexPublisher;
}

/** One store's merges as the writer sees them: at most one planned and not yet installed. */
export class WriterCompaction {
  private merging: MergePlan | undefined;
  /** Damaged stretches merges skipped since open (no live key needed them), and their bytes. */
  readonly damageSkipped = { ranges: 0, bytes: 0 };

  constructor(private readonly logger: Logger) {}

  /**
   * Plans the next merge (see WriterApi.planCompaction), or returns null if none is due. With
   * `all` from the start (`after` 0), the active segment is sealed first. Throws `KV_INTERNAL`
   * if a merge is already planned.
   */
  plan(
    { segments, log }: CompactionScope,
    all: boolean,
    after: number,
    upTo: number,
    policy: CompactionPolicy,
  ): MergePlan | null {
    if (this.merging) throw new KvError('KV_INTERNAL', 'a merge is already in progress');
    if (all && after === 0) log.sealActive();
    segments.sweepExpired();
    const sealed = segments.list().filter((s) => s.id !== log.activeId);
    // Sorting waits while segments fill faster than one per `sortQuietMs`: under a sustained
    // load it would take a core from the writes it follows (ARCHITECTURE.md, "Compaction").
    const quiet = performance.now() - log.sealedAt >= policy.sortQuietMs;
    const { run, reason } = chooseRun(
      sealed.filter((s) => s.first > after && s.last <= upTo),
      sealed[0],
      quiet ? policy : { ...policy, sortSealed: false },
      all,
    );
    if (run.length === 0) return null;
    const plan: MergePlan = {
      outputId: segments.takeId(),
      first: run[0]!.first,
      last: run[run.length - 1]!.last,
      inputs: mergeInputs(run),
      dropTombstones: run[0] === sealed[0],
      now: Date.now(),
      sealedThrough: sealed.reduce((m, s) => Math.max(m, s.last), 0),
      sequence: log.sequence,
      reason,
    };
    this.merging = plan;
    this.logger.info(
      {
        inputs: run.map((s) => SegmentTable.fileName(s)),
        bytes: run.reduce((n, s) => n + s.size, 0),
        output: sortedSegmentFileName(plan.outputId),
        dropTombstones: plan.dropTombstones,
        reason,
      },
      'compaction: merge planned',
    );
    return plan;
  }

  /** Installs the planned merge `plan` (merge-install.ts). Throws as installMerge does. */
  async install(
    { segments, index, log, publisher }: CompactionScope,
    plan: MergePlan,
    result: MergeResult,
  ): Promise<InstallOutcome> {
    if (this.merging?.outputId !== plan.outputId) {
      throw new KvError('KV_INTERNAL', `merge into ${plan.outputId} was not planned`);
    }
    const started = performance.now();
    try {
      const outcome = await installMerge(
        segments,
        index,
        plan,
        result,
        (tag, from) => log.noteDropped(tag, from),
        publisher.versions,
      );
      log.sweepFds();
      segments.publishKeyRunState(log.activeId);
      this.damageSkipped.ranges += outcome.damagedRanges;
      this.damageSkipped.bytes += outcome.damagedBytes;
      for (const d of result.damaged) {
        this.logger.warn(
          { file: inputName(plan, d.segmentId), offset: d.from, bytes: d.to - d.from, key: d.key },
          'compaction: skipped a damaged stretch no live key needed (its bytes are gone with the merged segment)',
        );
      }
      this.logger.info(
        {
          ...outcome,
          output: sortedSegmentFileName(plan.outputId),
          bytes: result.size,
          seconds: (performance.now() - started) / 1000,
        },
        'compaction: merge installed, inputs retired',
      );
      return outcome;
    } finally {
      this.merging = undefined;
      // Installed or refused, the move list is spent; it can hold tens of MB (36 B a record).
      releaseBuffer(result.moves.buffer);
    }
  }

  /** Forgets `plan` and removes its temporary files from `segments`' directory, if open. */
  abandon(segments: SegmentTable | undefined, plan: MergePlan): void {
    if (this.merging?.outputId === plan.outputId) this.merging = undefined;
    if (!segments) return;
    removeFilesDurably(segments.files, segments.dir, [
      sortedSegmentFileName(plan.outputId) + TEMP_SUFFIX,
      segmentFileName(plan.outputId) + TEMP_SUFFIX,
      hintFileName(plan.outputId) + TEMP_SUFFIX,
      keysFileName(plan.outputId) + TEMP_SUFFIX,
    ]);
  }
}

/** The file name of the plan's input segment `id`. */
function inputName(plan: MergePlan, id: number): string {
  const input = plan.inputs.find((i) => i.id === id);
  return dataFileName(id, input?.sorted ? KIND_SORTED : KIND_LOG);
}
