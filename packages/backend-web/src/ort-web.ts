// The one place this package imports onnxruntime-web. The `/webgpu` entry is the native WebGPU execution provider
// (the default entry's WebGPU is the deprecated JSEP one); its WebAssembly build also serves the 'wasm' provider.
import * as ort from 'onnxruntime-web/webgpu';

export { ort };
export type OrtTensor = ort.Tensor;
export type OrtSession = ort.InferenceSession;
