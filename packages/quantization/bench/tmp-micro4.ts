import { computeGroupParameters, quantizeAndPackGroup } from '../src/index.js';
const N = 1 << 20, D = Number(process.argv[2] ?? 64), bits = 4;
const src = new Float32Array(N).map((_, i) => Math.sin(i * 0.37) * 3);
const params = new Float32Array(2 * N / D);
const packed = new Uint8Array(N);
const cpu = (name: string, f: () => void) => { const s = process.cpuUsage(); f(); const e = process.cpuUsage(s); console.log(name, ((e.user + e.system) * 1000 / N).toFixed(2), 'ns/elem'); };
for (let r = 0; r < 4; r++) {
  cpu('params', () => { for (let g = 0; g < N / D; g++) computeGroupParameters(src, g * D, D, 1, bits, params, 2 * g); });
  cpu('quantize', () => { for (let g = 0; g < N / D; g++) quantizeAndPackGroup(src, g * D, D, 1, bits, packed, g * D / 2, params, 2 * g); });
}
