// onnxruntime error mapping is shared by every onnxruntime backend.
export { isModelProblem, messageOf } from '@qaq/backend-common';
