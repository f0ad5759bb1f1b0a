import { defaultModelUrl } from './default-model.js';

export type ProviderChoice = 'auto' | 'webgpu' | 'wasm';
/** How the graph builder stores linear weights: 4-bit MatMulNBits (small) or dequantized fp32 (4× the memory). */
export type WeightChoice = 'nbits' | 'fp32';

/** What the page was asked to do through its query string (also how the end-to-end test drives it). */
export interface AppOptions {
  /** GGUF to load: an absolute URL or a path on this origin. */
  readonly modelUrl: string;
  /** Load the model and generate once, without a click. */
  readonly autorun: boolean;
  /** KV method text (`fp16`, `uniform:4`, `kivi:2`, `qaq`, `qaq:compact`, `ort-int4`, …). */
  readonly kvMethod: string;
  readonly provider: ProviderChoice;
  readonly weights: WeightChoice;
  readonly maxTokens: number;
  readonly prompt: string;
  /** Keep a downloaded model in browser storage (default true). */
  readonly storeModel: boolean;
}

export const defaultPrompt = 'Write one sentence about the sea.';
export const defaultKvMethod = 'qaq:lean';
export const defaultMaxTokens = 48;

const providers: readonly ProviderChoice[] = ['auto', 'webgpu', 'wasm'];

/** Reads the options from a query string; unknown or malformed values fall back to the defaults. */
export function parseAppOptions(search: string): AppOptions {
  const parameters = new URLSearchParams(search);
  const provider = parameters.get('provider');
  const maxTokens = Number.parseInt(parameters.get('maxTokens') ?? '', 10);
  const flag = (name: string, fallback: boolean): boolean => {
    const value = parameters.get(name);
    if (value === null) return fallback;
    return value === '' || value === '1' || value === 'true';
  };
  return {
    modelUrl: nonEmpty(parameters.get('model')) ?? defaultModelUrl,
    autorun: flag('autorun', false),
    kvMethod: nonEmpty(parameters.get('kv')) ?? defaultKvMethod,
    provider: providers.includes(provider as ProviderChoice) ? (provider as ProviderChoice) : 'auto',
    weights: parameters.get('weights') === 'fp32' ? 'fp32' : 'nbits',
    maxTokens: Number.isInteger(maxTokens) && maxTokens > 0 ? maxTokens : defaultMaxTokens,
    prompt: nonEmpty(parameters.get('prompt')) ?? defaultPrompt,
    storeModel: flag('store', true),
  };
}

function nonEmpty(value: string | null): string | null {
  return value === null || value.trim() === '' ? null : value;
}
