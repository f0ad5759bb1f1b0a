export { ConformanceFailure, check, checkClose, checkEqual, checkRejects, checkSameList } from './assertions.js';
export type { ConformanceCheck, ConformanceContext } from './check.js';
export { conformanceChecks } from './checks/index.js';
export { fixtureModel, fixtureOperators, type FixtureName } from './fixtures.js';
export { matMulPrecision, matMulTolerance, reducedPrecisionMatMulProviders, type MatMulPrecision } from './matmul-precision.js';
export { referenceAdd, referenceMatMul, referenceSoftmax } from './reference.js';
export { seededRandom, randomFloats } from './random.js';
export {
  runCheck,
  runConformanceChecks,
  skipReason,
  type BackendFactory,
  type ConformanceOptions,
  type ConformanceResult,
} from './run-checks.js';
