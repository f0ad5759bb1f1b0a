export { ablationMethods, type AblationMethod } from './ablation-methods.js';
export { readBitWidthMap, type BitWidthMap, type LayerBitWidths } from './bit-width-map.js';
export {
  evaluateMethod,
  evaluateMethods,
  type EvaluateMethodOptions,
  type EvaluateMethodsOptions,
  type MethodsEvaluation,
} from './evaluate-method.js';
export { contractRecord, significant, type ContractRecordInput } from './contract-record.js';
export type { EvaluationRecord } from './evaluation-record.js';
export { formatEvaluationTable, formatPasskeyTable } from './evaluation-table.js';
export { defaultStride, planEvaluationWindows, type EvaluationWindow } from './evaluation-windows.js';
export { argmax, logSoftmaxInto } from './log-softmax.js';
export { MetricAccumulator, nearestRankQuantile, type MetricSummary } from './metric-accumulator.js';
export { compareNextToken, referenceDistribution, type NextTokenComparison, type ReferenceDistribution } from './next-token-comparison.js';
export {
  evaluatePasskey,
  passkeyForTrial,
  type PasskeyCell,
  type PasskeyEvaluation,
  type PasskeyEvaluationOptions,
  type PasskeyTrial,
} from './passkey-evaluation.js';
export {
  buildPasskeyPrompt,
  extractPasskeyAnswer,
  passkeyFromSeed,
  passkeyIntroduction,
  passkeyNeedle,
  passkeyQuestion,
  type PasskeyPrompt,
  type PasskeyPromptOptions,
  type PasskeyTokenizer,
} from './passkey-prompt.js';
export {
  evaluateStreaming,
  type AveragedMemory,
  type EvaluationProgress,
  type MethodEvaluation,
  type StreamingEvaluationOptions,
  type StreamingEvaluationResult,
} from './streaming-evaluation.js';
