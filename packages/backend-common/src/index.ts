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
