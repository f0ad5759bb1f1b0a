/**
 * Bytes the policy's attention statistics (AttentionWindow) hold beside the KV cache, for a model's layer and KV-head
 * counts, a token count and attention windows: one observation of every token in every layer, then byteLength().
 * Both stores — the running maximum (what the policy keeps when plans are at least a window apart: every preset) and
 * the ring of the last n steps (any cadence) — and both layouts: merged over KV heads (groups spanning a layer's
 * heads, every preset) and per head (groupLayout 'token-layer-head').
 *   node --conditions=source --import tsx packages/policy/bench/window-bytes.ts [--layers 30 --kv-heads 3 --tokens 8168 --windows 5,10]
 */
import { parseArgs } from 'node:util';
import type { AttentionStatistics } from '../src/attention-statistics.js';
import { AttentionWindow } from '../src/attention-window.js';
import { RunningAttentionMaximum } from '../src/running-attention-maximum.js';

const { values } = parseArgs({
  options: {
    layers: { type: 'string', default: '30' },
    'kv-heads': { type: 'string', default: '3' },
    tokens: { type: 'string', default: '8168' },
    windows: { type: 'string', default: '5,10' },
  },
});
const layers = Number(values.layers);
const kvHeads = Number(values['kv-heads']);
const tokens = Number(values.tokens);
const stores = {
  'running maximum': (window: number, mergeHeads: boolean): AttentionStatistics => new RunningAttentionMaximum(layers, kvHeads, window, 64, { mergeHeads }),
  ring: (window: number, mergeHeads: boolean): AttentionStatistics => new AttentionWindow(layers, kvHeads, window, 64, { mergeHeads }),
};
for (const window of values.windows.split(',').map(Number)) {
  for (const [name, create] of Object.entries(stores)) {
    for (const mergeHeads of [true, false]) {
      const statistics = create(window, mergeHeads);
      const probabilities = new Float32Array(kvHeads * tokens).fill(1 / tokens);
      for (let layer = 0; layer < layers; layer += 1) statistics.observe(layer, probabilities, tokens);
      const bytes = statistics.byteLength();
      const live = statistics.liveByteLength();
      process.stdout.write(
        `${name}, window ${window}, ${layers} layers × ${kvHeads} KV heads${mergeHeads ? ' (merged)' : ' (per head)'}, ${tokens} tokens: ` +
          `${(bytes / 2 ** 20).toFixed(2)} MiB held, ${(live / 2 ** 20).toFixed(2)} MiB live, ${(live / layers / tokens).toFixed(1)} live bytes per token and layer\n`,
      );
    }
  }
}
