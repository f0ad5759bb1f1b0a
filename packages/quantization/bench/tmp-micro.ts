import { quantizeAndPackGroup, unpackAndDequantizeGroup, computeGroupParameters } from '../src/index.js';
const N = 1 << 20, D = 64, bits = 4;
const src = new Float32Array(N).map((_, i) => Math.sin(i * 0.37) * 3);
const packed = new Uint8Array(N), params = new Float32Array(2 * N / D), out = new Float32Array(N);
const cpu = (f: () => void) => { const s = process.cpuUsage(); f(); const e = process.cpuUsage(s); return ((e.user + e.system) * 1000 / N).toFixed(2); };
for (let r = 0; r < 6; r++) {
  const q = cpu(() => { for (let g = 0; g < N / D; g++) quantizeAndPackGroup(src, g * D, D, 1, bits, packed, g * D / 2, params, 2 * g); });
  const p = cpu(() => { for (let g = 0; g < N / D; g++) computeGroupParameters(src, g * D, D, 1, bits, params, 2 * g); });
  const d = cpu(() => { for (let g = 0; g < N / D; g++) unpackAndDequantizeGroup(packed, g * D / 2, D, bits, params[2 * g]!, params[2 * g + 1]!, out, g * D); });
  const c = cpu(() => { out.set(src); });
  console.log('cpu ns/elem quantize', q, 'params', p, 'dequant', d, 'copy', c);
}
