import type { Dimension, ValueMetadata } from '@qaq/backend-spec';
import type { InferenceSession } from 'onnxruntime-web/webgpu';
import { isTensorDataType } from '@qaq/backend-common';

/** The spec's metadata from onnxruntime-web's: element types it cannot carry (string, int4) become undefined. */
export function toValueMetadata(metadata: readonly InferenceSession.ValueMetadata[]): ValueMetadata[] {
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
