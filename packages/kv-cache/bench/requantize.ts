/**
 * Microseconds per group re-quantization (a plan's demotion), the cost `applyPlan` pays for every group a plan
 * moves: one layer of SmolLM2-135M's shape (3 KV heads × 64, one group per head) holding `--tokens` tokens of
 * synthetic Gaussian keys and values (1% of elements ×8), every group (or a `--fraction` of them, spread over the
 * layer) walked down 8 → 6 → 5 → 4 → 3 → 2 bits in plans of one width step each. Single-threaded CPU.
 * Run: node --conditions=source --import tsx packages/kv-cache/bench/requantize.ts [--tokens 2048] [--alpha 0] [--rounds 5]
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { LayerPlan } from '@qaq/policy';
import { KvCache } from '@qaq/kv-cache';
import { gaussian } from './synthetic-values.js';

const { values: options } = parseArgs({
  options: {
    tokens: { type: 'string', default: '2048' },
    alpha: { type: 'string', default: '0' },
    rounds: { type: 'string', default: '5' },
    fraction: { type: 'string', default: '1' },
  },
});
const tokens = Number(options.tokens);
const outlierFraction = Number(options.alpha);
const rounds = Number(options.rounds);
/** Share of the groups each plan moves, spread over the layer (a real plan moves a scattered few). */
const fraction = Number(options.fraction);
const kvHeads = 3;
const headDim = 64;
const widths = [8, 6, 5, 4, 3, 2];

const keys = gaussian(tokens * kvHeads * headDim);
const values = gaussian(tokens * kvHeads * headDim);
const groupCount = tokens * kvHeads;
const samples: number[] = [];
for (let round = 0; round < rounds; round += 1) {
  const cache = new KvCache({ layers: 1, kvHeads, headDim, outlierFraction, initialCapacityTokens: tokens });
  cache.append(0, keys, values, tokens, 16, 16);
  let elapsed = 0;
  let moved = 0;
  for (const bits of widths) {
    const plan = new LayerPlan(groupCount);
    plan.groupCount = groupCount;
    plan.groupsPerToken = kvHeads;
    for (const kind of [plan.keys, plan.values]) {
      kind.reset(groupCount);
      let count = 0;
      for (let group = 0; group < groupCount; group += 1) {
        if (Math.floor((group + 1) * fraction) === Math.floor(group * fraction)) continue;
        kind.demoteGroups[count] = group;
        kind.demoteBits[count] = bits;
        count += 1;
      }
      kind.demoteCount = count;
      moved += 2 * count;
    }
    const started = performance.now();
    cache.applyPlan(0, plan);
    elapsed += performance.now() - started;
  }
  samples.push((elapsed * 1000) / moved);
}
samples.sort((a, b) => a - b);
console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'}; node ${process.version}`);
console.log(
  `${tokens} tokens × ${kvHeads} heads × ${headDim}, α ${outlierFraction}: ${(samples[Math.floor(rounds / 2)] as number).toFixed(2)} µs per group ` +
    `re-quantization (median of ${rounds} rounds; min ${(samples[0] as number).toFixed(2)})`,
);
