import { usageError } from './cli-error.js';

/** KV cache methods the runtime implements today. QAQ and the quantized baselines plug in with the QAQ-inference work. */
export const availableKvMethods = ['fp32'] as const;
export type KvMethod = (typeof availableKvMethods)[number];

/** Methods the command contract names; those not yet available get a clear error rather than a silent fallback. */
const plannedKvMethods = /^(fp16|uniform:\d+|kivi:\d+|ort-int8|ort-int4|qaq(:.*)?)$/;

export function parseKvMethod(value: string | undefined): KvMethod {
  const method = value ?? 'fp32';
  if ((availableKvMethods as readonly string[]).includes(method)) return method as KvMethod;
  if (plannedKvMethods.test(method)) {
    throw usageError(`--kv ${method} is not available in this version; available: ${availableKvMethods.join(', ')}`, {
      method,
      available: availableKvMethods,
    });
  }
  throw usageError(`unknown --kv method "${method}"; available: ${availableKvMethods.join(', ')}`, { method });
}
