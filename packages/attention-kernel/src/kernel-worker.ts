import { CONTROL } from './kernel-threads-control.js';

/**
 * What a worker thread needs to join a threaded kernel, and how a runtime starts one. The pool itself is
 * runtime-agnostic; only starting a thread is not (Node: `@qaq/attention-kernel/node-threads`; browsers: a Web
 * Worker in a cross-origin isolated page). Every field is structured-cloneable: the compiled module, the shared
 * memory (same bytes in every thread) and numbers.
 */
export interface KernelWorkerInit {
  /** The compiled shared-memory kernel (kernel-threads.ts). */
  readonly module: unknown;
  /** The kernel's shared WebAssembly.Memory. */
  readonly memory: unknown;
  /** Byte offset of the control block in the memory. */
  readonly control: number;
  /** This thread's index (1..threads−1; the main thread is 0): selects its scratch. */
  readonly thread: number;
}

/** A started worker thread. */
export interface KernelWorkerHandle {
  /** Resolves once the worker instantiated the kernel and entered its loop; rejects (QaqError) if it could not. */
  readonly ready: Promise<void>;
  /** Stops the thread. */
  terminate(): Promise<unknown> | void;
}

/** Starts one worker thread that runs KERNEL_WORKER_SOURCE with `init` (for example over worker_threads). */
export type StartKernelWorker = (init: KernelWorkerInit) => KernelWorkerHandle;

/** A message a worker posts to its starter. */
export type KernelWorkerMessage = { readonly type: 'ready' } | { readonly type: 'failed'; readonly message: string };

/**
 * The worker's whole program, as JavaScript source of a function `(init, post) => void`, so that each runtime
 * can wrap it in its own few lines (how the init arrives, how `post` sends messages) without loading modules in
 * the worker. It instantiates the kernel over the shared memory, posts `ready`, and serves calls until EXIT;
 * if the kernel traps it sets FAILED in the control block and wakes the main thread, which throws.
 */
export const KERNEL_WORKER_SOURCE = `(init, post) => {
  const words = new Int32Array(init.memory.buffer, init.control, ${CONTROL.spin + 1});
  const describe = (error) => String(error && error.message !== undefined ? error.message : error);
  let exports;
  try {
    exports = new WebAssembly.Instance(init.module, { env: { memory: init.memory } }).exports;
  } catch (error) {
    post({ type: 'failed', message: describe(error) });
    return;
  }
  post({ type: 'ready' });
  try {
    exports.serve(init.control, init.thread, 0);
  } catch (error) {
    Atomics.store(words, ${CONTROL.failed}, 1);
    Atomics.notify(words, ${CONTROL.done});
    post({ type: 'failed', message: describe(error) });
  }
}`;
