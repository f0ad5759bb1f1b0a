export {
  allocate,
  elementCount,
  isTensorDataType,
  matchesDataType,
  onnxDataTypes,
  supportedDataTypes,
  typedArrayConstructors,
} from './data-types.js';
export { validateRun, type ValidatedRun } from './run-validation.js';
export { isModelProblem, messageOf } from './ort-errors.js';
export { probeModel } from './probe-model.js';
export { notSupportedProbe, providerUnavailableError, selectProviders, type ProviderCatalog } from './provider-selection.js';
export { invalidOption, logSeverity, validateConfigEntries, validateSpecSessionOptions } from './session-options.js';
export { toValueMetadata, type OrtValueMetadata } from './value-metadata.js';
export { parsePlacementBlocks, type LoggedNode, type LoggedPlacementBlock } from './placement-log.js';
export { HostTensor, tensorDisposedError, validateTensorData } from './cpu-tensor.js';
export { prepareOrtRun, runFailedError, sessionDisposedError, type PreparedOrtRun } from './ort-run.js';
