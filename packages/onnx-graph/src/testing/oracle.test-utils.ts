import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ModelName } from './model-files.test-utils.js';

/** Per-position reference from scripts/make-oracle.py (transformers, fp32, same GGUF). */
export interface OraclePosition {
  readonly topIds: readonly number[];
  readonly topLogits: readonly number[];
  readonly subsetLogits: readonly number[];
  readonly logSumExp: number;
}

export interface OracleCase {
  readonly prompt: string;
  readonly tokenIds: readonly number[];
  readonly positions: readonly OraclePosition[];
}

export interface Oracle {
  readonly model: string;
  readonly vocabSize: number;
  readonly subsetIds: readonly number[];
  readonly cases: readonly OracleCase[];
}

export function readOracle(name: ModelName): Oracle {
  const path = fileURLToPath(new URL(`../../fixtures/oracle-${name}.json`, import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as Oracle;
}

export interface PositionComparison {
  readonly top1: number;
  readonly expectedTop1: number;
  /** Reference gap between its first and second logit (a tie makes top-1 ambiguous). */
  readonly referenceMargin: number;
  /** max |ours − reference| / max |reference| over the stored ids. */
  readonly relativeError: number;
  /** max |log-softmax ours − log-softmax reference| over the stored ids. */
  readonly logSoftmaxError: number;
}

/** Compares one row of our logits (full vocabulary) with a stored reference position. */
export function comparePosition(logits: Float32Array, reference: OraclePosition, subsetIds: readonly number[]): PositionComparison {
  let top1 = 0;
  let max = -Infinity;
  for (let index = 0; index < logits.length; index++) {
    if (logits[index]! > max) {
      max = logits[index]!;
      top1 = index;
    }
  }
  let sum = 0;
  for (let index = 0; index < logits.length; index++) sum += Math.exp(logits[index]! - max);
  const logSumExp = max + Math.log(sum);
  const ids = [...reference.topIds, ...subsetIds];
  const expected = [...reference.topLogits, ...reference.subsetLogits];
  let largest = 0;
  let absolute = 0;
  let logSoftmaxError = 0;
  ids.forEach((id, index) => {
    const ours = logits[id]!;
    const theirs = expected[index]!;
    largest = Math.max(largest, Math.abs(theirs));
    absolute = Math.max(absolute, Math.abs(ours - theirs));
    logSoftmaxError = Math.max(logSoftmaxError, Math.abs(ours - logSumExp - (theirs - reference.logSumExp)));
  });
  return {
    top1,
    expectedTop1: reference.topIds[0]!,
    referenceMargin: reference.topLogits[0]! - reference.topLogits[1]!,
    relativeError: absolute / largest,
    logSoftmaxError,
  };
}
