/**
 * Bytes the policy's attention statistics (AttentionWindow) hold beside the KV cache, for a model's layer and KV-head
 * counts, a token count and attention windows: one observation of every token in every layer, then byteLength().
 *   node --conditions=source --import tsx packages/policy/bench/window-bytes.ts [--layers 30 --kv-heads 3 --tokens 8168 --windows 5,10]
 */
import { parseArgs } from 'node:util';
import { AttentionWindow } from '../src/attention-window.js';

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
for (const window of values.windows.split(',').map(Number)) {
  const statistics = new AttentionWindow(layers, kvHeads, window, 64);
  const probabilities = new Float32Array(kvHeads * tokens).fill(1 / tokens);
  for (let layer = 0; layer < layers; layer += 1) statistics.observe(layer, probabilities, tokens);
  const bytes = statistics.byteLength();
  process.stdout.write(
    `layers ${layers}, KV heads ${kvHeads}, tokens ${tokens}, window ${window}: ${(bytes / 2 ** 20).toFixed(2)} MiB, ` +
      `${(bytes / layers / tokens).toFixed(1)} bytes per token and layer\n`,
  );
}
