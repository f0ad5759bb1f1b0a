// onnxruntime-node's InferenceSession.ValueMetadata converts the same way as onnxruntime-web's.
export { toValueMetadata } from '@qaq/backend-common';
