import { QaqError } from '@qaq/errors';
import { KernelThreadsControl } from './kernel-threads-control.js';
import type { KernelWorkerHandle } from './kernel-worker.js';

/** Options of a threaded kernel (see WasmAttention.createThreaded). */
export interface KernelThreadsOptions {
  /** Threads in all, the calling thread included (2..64). */
  readonly threads: number;
  /**
   * Fewest tokens per chunk (default 512). A call whose visible span is shorter than twice this runs on the
   * calling thread alone, so short contexts pay no synchronisation.
   */
  readonly minimumChunkTokens?: number;
  /** Chunks per thread a long call is cut into (default 4, at most 64): late-waking threads just claim fewer. */
  readonly chunksPerThread?: number;
  /** Polls of the control block before an idle worker sleeps in Atomics.wait (default 0: sleep at once). */
  readonly spinPolls?: number;
  /** How long the calling thread waits for the workers' chunks before it gives up (default 60,000 ms). */
  readonly timeoutMs?: number;
}

/** How one call is split: `chunkCount` token ranges of `chunkTokens` from the first visible token. */
export interface ChunkPlan {
  readonly chunkTokens: number;
  readonly chunkCount: number;
}

export const MAXIMUM_THREADS = 64;
const MAXIMUM_CHUNKS_PER_THREAD = 64;

/** The worker threads of a threaded kernel, their control block, and how calls are cut into chunks. */
export class KernelThreads {
  readonly threadCount: number;
  readonly control: KernelThreadsControl;
  readonly timeoutMs: number;
  private readonly minimumChunkTokens: number;
  private readonly chunksPerThread: number;
  private readonly workers: readonly KernelWorkerHandle[];
  private broken: QaqError | null = null;
  private disposed = false;

  constructor(control: KernelThreadsControl, workers: readonly KernelWorkerHandle[], options: KernelThreadsOptions) {
    this.control = control;
    this.workers = workers;
    this.threadCount = options.threads;
    this.minimumChunkTokens = options.minimumChunkTokens ?? 512;
    this.chunksPerThread = options.chunksPerThread ?? 4;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** Checks the numeric options before anything is started. */
  static validate(options: KernelThreadsOptions): void {
    const { threads } = options;
    if (!Number.isInteger(threads) || threads < 1 || threads > MAXIMUM_THREADS) {
      throw new QaqError('invalid-argument', `threads must be an integer in 1..${MAXIMUM_THREADS}`, { details: { threads } });
    }
    const positive = { minimumChunkTokens: options.minimumChunkTokens, chunksPerThread: options.chunksPerThread, timeoutMs: options.timeoutMs };
    for (const [name, value] of Object.entries(positive)) {
      if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
        throw new QaqError('invalid-argument', `${name} must be a positive integer`, { details: { [name]: value } });
      }
    }
    // Claims carry the chunk index in 16 bits: at most 64 threads × 64 chunks (+1 from rounding) per call.
    if (options.chunksPerThread !== undefined && options.chunksPerThread > MAXIMUM_CHUNKS_PER_THREAD) {
      throw new QaqError('invalid-argument', `chunksPerThread must be at most ${MAXIMUM_CHUNKS_PER_THREAD}`, { details: { chunksPerThread: options.chunksPerThread } });
    }
    if (options.spinPolls !== undefined && (!Number.isInteger(options.spinPolls) || options.spinPolls < 0 || options.spinPolls > 2 ** 31 - 1)) {
      throw new QaqError('invalid-argument', 'spinPolls must be a non-negative 32-bit integer', { details: { spinPolls: options.spinPolls } });
    }
  }

  /**
   * The split of a call whose queries sit at firstPosition..firstPosition+queryCount−1 (window 0: none), or null
   * when it is too short to be worth one.
   */
  plan(firstPosition: number, queryCount: number, window: number): ChunkPlan | null {
    const lowest = window > 0 ? Math.max(0, firstPosition - window + 1) : 0;
    const span = firstPosition + queryCount - lowest;
    if (span < 2 * this.minimumChunkTokens) return null;
    const wanted = Math.ceil(span / (this.threadCount * this.chunksPerThread));
    const chunkTokens = Math.ceil(Math.max(this.minimumChunkTokens, wanted) / 4) * 4;
    return { chunkTokens, chunkCount: Math.ceil(span / chunkTokens) };
  }

  /** Throws if the pool cannot run a call (disposed, or a worker failed earlier). */
  ensureUsable(): void {
    if (this.disposed) throw new QaqError('kernel-disposed', 'this attention kernel was disposed', { details: {} });
    if (this.broken !== null) throw this.broken;
    if (this.control.failed) {
      this.broken = new QaqError('attention-worker-failed', 'an attention worker thread failed earlier', { details: {} });
      throw this.broken;
    }
  }

  /** After a failed call workers may still be writing: no later call may run. */
  markBroken(cause: unknown): void {
    this.broken =
      cause instanceof QaqError ? cause : new QaqError('attention-worker-failed', 'a threaded attention call failed', { details: {}, cause });
  }

  /** Ends the workers' loops and terminates them. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.control.exit();
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}
