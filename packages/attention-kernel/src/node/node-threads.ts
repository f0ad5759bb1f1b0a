import { Worker } from 'node:worker_threads';
import { QaqError } from '@qaq/errors';
import { createAttention, type CompactAttention, type CreateAttentionOptions } from '../create-attention.js';
import { KERNEL_WORKER_SOURCE, type KernelWorkerHandle, type KernelWorkerInit, type KernelWorkerMessage, type StartKernelWorker } from '../kernel-worker.js';

// worker_threads evaluates this as a CommonJS script: the init arrives as workerData.
const NODE_WORKER_SCRIPT = `const { parentPort, workerData } = require('node:worker_threads');
(${KERNEL_WORKER_SOURCE})(workerData, (message) => parentPort.postMessage(message));`;

/**
 * Starts one kernel worker on a Node worker thread. The thread is unref'd (it never keeps the process alive);
 * `ready` rejects with `attention-worker-failed` if it could not instantiate the kernel or exited first.
 */
export const startNodeKernelWorker: StartKernelWorker = (init: KernelWorkerInit): KernelWorkerHandle => {
  const worker = new Worker(NODE_WORKER_SCRIPT, { eval: true, workerData: init });
  worker.unref();
  let settled = false;
  const ready = new Promise<void>((resolve, reject) => {
    const fail = (message: string, cause?: unknown): void => {
      if (settled) return;
      settled = true;
      reject(new QaqError('attention-worker-failed', `attention worker ${init.thread} failed: ${message}`, { details: { thread: init.thread }, cause }));
    };
    worker.on('message', (message: KernelWorkerMessage) => {
      if (message.type === 'ready' && !settled) {
        settled = true;
        resolve();
      } else if (message.type === 'failed') {
        fail(message.message);
      }
    });
    // Always listened to: an unhandled 'error' event would crash the process. A failure after `ready` reaches the
    // calling thread through the control block (FAILED), since it may be blocked in Atomics.wait.
    worker.on('error', (error) => fail(error.message, error));
    worker.on('exit', (code) => fail(`exited with code ${code}`));
  });
  return { ready, terminate: () => worker.terminate() };
};

/** `createAttention` with Node worker threads: `createNodeAttention({ threads: 2 })`. */
export function createNodeAttention(options: Omit<CreateAttentionOptions, 'startWorker'> = {}): Promise<CompactAttention> {
  return createAttention({ ...options, startWorker: startNodeKernelWorker });
}
