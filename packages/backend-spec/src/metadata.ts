import type { TensorDataType } from './data-type.js';

/** One dimension of a model input or output: a fixed size, or a symbolic name such as 'batch' (bound per run). */
export type Dimension = number | string;

/** A model input or output as the model declares it. */
export interface ValueMetadata {
  readonly name: string;
  /** The element type, or undefined for non-tensor values (sequences, maps), which backends need not support. */
  readonly dataType: TensorDataType | undefined;
  /** Declared dimensions; `undefined` when the model declares no shape (any rank is accepted). */
  readonly dimensions: readonly Dimension[] | undefined;
}
