/**
 * Summed squared error of least-squares clipped ranges against min–max, for 200 deterministic bell-shaped groups of
 * 192 values (three 64-value heads at equal scales, or at scales 1, 2 and 0.5), 2 to 5 bits, through the real
 * quantizeAndPackGroup and unpack (fp16 parameters). The groups are the ones clipped-range.test.ts checks.
 *   node --conditions=source --import tsx packages/quantization/bench/clipped-range.ts
 */
import { clippedErrorRatio } from '../src/clipped-range.test-utils.js';

for (const headScales of [[1, 1, 1], [1, 2, 0.5]]) {
  const ratios = [2, 3, 4, 5].map((bits) => `${bits} bits ${clippedErrorRatio(bits, headScales).toFixed(3)}`);
  process.stdout.write(`head scales ${headScales.join(', ')}: least-squares ÷ min–max squared error: ${ratios.join(', ')}\n`);
}
