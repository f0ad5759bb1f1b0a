import type { Dimension, ValueMetadata } from '@qaq/backend-spec';
import { isTensorDataType } from './data-types.js';

/** The shape of onnxruntime's (node and web, from onnxruntime-common) `InferenceSession.ValueMetadata`. */
export type OrtValueMetadata =
  | { readonly name: string; readonly isTensor: false }
  | { readonly name: string; readonly isTensor: true; readonly type: string; readonly shape: readonly Dimension[] };

/** The spec's metadata from onnxruntime's: element types it cannot carry (string, int4) become undefined. */
export function toValueMetadata(metadata: readonly OrtValueMetadata[]): ValueMetadata[] {
  return metadata.map((value): ValueMetadata => {
    if (!value.isTensor) return Object.freeze({ name: value.name, dataType: undefined, dimensions: undefined });
    const dimensions: Dimension[] = value.shape.map((dimension) => dimension);
    return Object.freeze({
      name: value.name,
      dataType: isTensorDataType(value.type) ? value.type : undefined,
      dimensions: Object.freeze(dimensions),
    });
  });
}
