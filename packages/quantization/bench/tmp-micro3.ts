import { computeGroupParameters } from '../src/index.js';
const N = 1 << 20, D = 64, bits = 4;
const src = new Float32Array(N).map((_, i) => Math.sin(i * 0.37) * 3);
const params = new Float32Array(2 * N / D);
for (let r = 0; r < 10; r++) for (let g = 0; g < N / D; g++) computeGroupParameters(src, g * D, D, 1, bits, params, 2 * g);
