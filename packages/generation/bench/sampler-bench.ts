/**
 * Time per sampled token for vocabulary sizes of the two default models.
 * Run: node --conditions=source --import tsx packages/generation/bench/sampler-bench.ts
 */
import { Sampler, SeededRandom, type SamplingOptions } from '@qaq/generation';

const configurations: readonly [string, SamplingOptions][] = [
  ['greedy', {}],
  ['temperature 0.8', { temperature: 0.8 }],
  ['top-k 40', { temperature: 0.8, topK: 40 }],
  ['top-p 0.95', { temperature: 0.8, topP: 0.95 }],
  [
    'top-k 40 + top-p 0.95 + min-p 0.05 + penalty 1.1',
    { temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, repetitionPenalty: 1.1 },
  ],
];

for (const vocabularySize of [49_152, 262_144]) {
  const random = new SeededRandom(1);
  const logits = Float32Array.from({ length: vocabularySize }, () => (random.nextFloat() - 0.5) * 20);
  for (const [name, options] of configurations) {
    const sampler = new Sampler(vocabularySize, { ...options, seed: 3 });
    for (let token = 0; token < 64; token++) sampler.observe(token * 7);
    for (let warm = 0; warm < 20; warm++) sampler.sample(logits);
    const iterations = 200;
    const start = performance.now();
    for (let iteration = 0; iteration < iterations; iteration++) sampler.sample(logits);
    const perToken = (performance.now() - start) / iterations;
    console.log(`vocab ${vocabularySize.toString().padStart(6)}  ${name.padEnd(50)} ${perToken.toFixed(3)} ms/token`);
  }
}
