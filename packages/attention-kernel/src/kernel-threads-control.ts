import { QaqError } from '@qaq/errors';

/**
 * The control block threads share (i32 words in the kernel's shared memory), the same layout as
 * assembly/kernel-threads.ts. The main thread publishes a call (plain words, then CLAIM, DONE and GENERATION
 * atomically), every thread claims chunks, and the main thread waits on DONE: no message per call.
 */
export const CONTROL = {
  generation: 0,
  claim: 1,
  done: 2,
  failed: 3,
  exit: 4,
  spin: 5,
  keyDescriptor: 8,
  valueDescriptor: 9,
  tokenCount: 10,
  kvHeads: 11,
  headDim: 12,
  groupsPerToken: 13,
  queryHeads: 14,
  queryCount: 15,
  firstPosition: 16,
  window: 17,
  scoreScale: 18,
  queries: 19,
  sharedScores: 20,
  partials: 21,
  chunkStride: 22,
  chunkTokens: 23,
  chunkCount: 24,
  scratch: 25,
  scratchStride: 26,
  negligibleProbability: 27,
  phase: 28,
  normalizers: 29,
  flags: 30,
} as const;

/** attendRange's phases (assembly/attention.ts): one pass, or a split decode step's scores, then its values. */
export const PHASE = { both: 0, scores: 1, values: 2 } as const;

/** Polls of DONE before the calling thread sleeps on it (a few tens of microseconds). */
const DONE_SPIN_POLLS = 4096;

/** Bytes of the control block (words 0..29, rounded up to a cache line). */
export const CONTROL_BYTES = 128;

/** One split call as the chunk loop reads it. */
export interface PublishedCall {
  readonly keyDescriptor: number;
  readonly valueDescriptor: number;
  readonly tokenCount: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly groupsPerToken: number;
  readonly queryHeads: number;
  readonly queryCount: number;
  readonly firstPosition: number;
  readonly window: number;
  readonly scoreScale: number;
  readonly queries: number;
  readonly sharedScores: number;
  readonly partials: number;
  readonly chunkStride: number;
  readonly chunkTokens: number;
  readonly chunkCount: number;
  readonly scratch: number;
  readonly scratchStride: number;
  /** AttentionOptions.negligibleProbability (0: exact). */
  readonly negligibleProbability: number;
  /** The kernel's flags (kernelFlags: AttentionOptions.fastScores, fastValues). */
  readonly flags: number;
}

/**
 * The main thread's side of the control block. Views are made once over the buffer the memory had then: a
 * shared memory's buffers all alias the same bytes and growing it never detaches them.
 */
export class KernelThreadsControl {
  readonly offset: number;
  private readonly words: Int32Array;
  private readonly floats: Float32Array;
  private generation = 0;

  constructor(buffer: ArrayBufferLike, offset: number, spinPolls: number) {
    this.offset = offset;
    this.words = new Int32Array(buffer, offset, CONTROL_BYTES / 4);
    this.floats = new Float32Array(buffer, offset, CONTROL_BYTES / 4);
    this.words.fill(0);
    this.words[CONTROL.spin] = spinPolls;
  }

  /**
   * Writes the call and its phase (PHASE.both, or PHASE.scores then PHASE.values with `normalizers`, where
   * normalizeParts left the call's per-row M and Z; else 0), then opens it: a fresh claim counter tagged with the
   * new generation, and wakes the workers.
   */
  publish(call: PublishedCall, phase: number, normalizers: number): void {
    const words = this.words;
    words[CONTROL.keyDescriptor] = call.keyDescriptor;
    words[CONTROL.valueDescriptor] = call.valueDescriptor;
    words[CONTROL.tokenCount] = call.tokenCount;
    words[CONTROL.kvHeads] = call.kvHeads;
    words[CONTROL.headDim] = call.headDim;
    words[CONTROL.groupsPerToken] = call.groupsPerToken;
    words[CONTROL.queryHeads] = call.queryHeads;
    words[CONTROL.queryCount] = call.queryCount;
    words[CONTROL.firstPosition] = call.firstPosition;
    words[CONTROL.window] = call.window;
    this.floats[CONTROL.scoreScale] = call.scoreScale;
    words[CONTROL.queries] = call.queries;
    words[CONTROL.sharedScores] = call.sharedScores;
    words[CONTROL.partials] = call.partials;
    words[CONTROL.chunkStride] = call.chunkStride;
    words[CONTROL.chunkTokens] = call.chunkTokens;
    words[CONTROL.chunkCount] = call.chunkCount;
    words[CONTROL.scratch] = call.scratch;
    words[CONTROL.scratchStride] = call.scratchStride;
    this.floats[CONTROL.negligibleProbability] = call.negligibleProbability;
    words[CONTROL.phase] = phase;
    words[CONTROL.normalizers] = normalizers;
    words[CONTROL.flags] = call.flags;
    this.generation = (this.generation + 1) | 0;
    Atomics.store(words, CONTROL.done, 0);
    Atomics.store(words, CONTROL.claim, (this.generation & 0xffff) << 16);
    Atomics.store(words, CONTROL.generation, this.generation);
    Atomics.notify(words, CONTROL.generation);
  }

  /**
   * Blocks until `chunkCount` chunks are done. A worker that failed sets FAILED (and wakes DONE); a worker that
   * stopped silently is caught by `timeoutMs`. Either way the call's results are unusable.
   */
  waitDone(chunkCount: number, timeoutMs: number): void {
    const words = this.words;
    // The other threads' last chunks usually end within microseconds of this thread's: poll before sleeping, as a
    // wake-up from Atomics.wait costs more than that.
    for (let poll = 0; poll < DONE_SPIN_POLLS; poll += 1) if (Atomics.load(words, CONTROL.done) >= chunkCount) return;
    let started = -1;
    for (;;) {
      const done = Atomics.load(words, CONTROL.done);
      if (done >= chunkCount) return;
      if (Atomics.load(words, CONTROL.failed) !== 0) {
        throw new QaqError('attention-worker-failed', 'an attention worker thread failed', { details: { done, chunkCount } });
      }
      const now = Date.now();
      if (started < 0) started = now;
      else if (now - started > timeoutMs) {
        throw new QaqError('attention-worker-timeout', 'attention worker threads did not finish the call', { details: { done, chunkCount, timeoutMs } });
      }
      Atomics.wait(words, CONTROL.done, done, 20);
    }
  }

  get failed(): boolean {
    return Atomics.load(this.words, CONTROL.failed) !== 0;
  }

  /** Tells every worker to return from its loop. */
  exit(): void {
    Atomics.store(this.words, CONTROL.exit, 1);
    this.generation = (this.generation + 1) | 0;
    Atomics.store(this.words, CONTROL.generation, this.generation);
    Atomics.notify(this.words, CONTROL.generation);
  }
}
