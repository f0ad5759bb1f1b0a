import type { ConformanceCheck } from '../check.js';
import { apiShapeChecks } from './api-shape.js';
import { dataTypeChecks } from './data-types.js';
import { errorChecks } from './errors.js';
import { numericsChecks } from './numerics.js';
import { outputChecks } from './outputs.js';

/** Every check of the suite, in the order they run. */
export const conformanceChecks: readonly ConformanceCheck[] = [
  ...apiShapeChecks,
  ...numericsChecks,
  ...dataTypeChecks,
  ...outputChecks,
  ...errorChecks,
];
