export { createMockBackend, type MockBackend, type MockBackendOptions } from './mock-backend.js';
export { MockSession, type MockRunRecord } from './mock-session.js';
export { MockTensor } from './mock-tensor.js';
export { builtInKernels, kernelKey, type Kernel } from './operators.js';
export { decodeOnnxModel, type AttributeValue, type GraphNode, type MockValue, type OnnxModel } from './onnx-model.js';
