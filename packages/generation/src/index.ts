export type {
  AbortSignalLike,
  CausalLanguageModel,
  GenerationTokenizer,
  StreamDecoder,
} from './causal-language-model.js';
export type {
  FinishReason,
  GenerateOptions,
  GenerationEvent,
  GenerationResult,
  GenerationTimings,
} from './generation-types.js';
export { generate, generateText } from './generate.js';
export { Sampler } from './sampler.js';
export {
  defaultSamplingOptions,
  resolveSamplingOptions,
  type ResolvedSamplingOptions,
  type SamplingOptions,
} from './sampling-options.js';
export { SeededRandom } from './random.js';
export { selectLargest, selectNucleus } from './selection.js';
export { StopStringMatcher, type StopMatchStep } from './stop-string-matcher.js';
