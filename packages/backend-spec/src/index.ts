// Types only: this package's JavaScript is `export {}`. Everything here is the 'v1' backend specification.
export type { Backend, BackendCapabilities } from './backend.js';
export type { TensorData, TensorDataType, TensorDataTypeArrayMap } from './data-type.js';
export type { BackendErrorCode } from './errors.js';
export type { Dimension, ValueMetadata } from './metadata.js';
export type { ExecutionProviderName, ExecutionProviderProbe, ProviderUnavailableReason } from './providers.js';
export type { BackendSession, Feeds, OutputLocation, RunOptions, SessionOptions } from './session.js';
export type { BackendTensor, CpuTensor, DeviceTensor, TensorLocation } from './tensor.js';
