export { ALL_WIDTHS, normalValues, randomCompactCache, uniformGenerator } from './random-compact-cache.js';
export { COMPARISON_CASES, compareWithReference, type ComparisonCase, type ComparisonResult } from './graph-attention-comparison.js';
