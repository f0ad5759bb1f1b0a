import { unpackAndDequantizeGroup } from '../src/index.js';
const N = 1 << 22, D = 64, bits = Number(process.argv[2] ?? 8);
const gb = Math.ceil(D * bits / 8);
const packed = new Uint8Array(N / D * gb).map((_, i) => (i * 37) & 255);
const out = new Float32Array(N), src = new Float32Array(N);
function best(f: () => void) { let t = Infinity; for (let r = 0; r < 15; r++) { const s = performance.now(); f(); t = Math.min(t, performance.now() - s); } return (N * 4 / (t / 1000) / 1e9).toFixed(2) + ' GB/s'; }
function local(packed: Uint8Array, off: number, len: number, base: number, step: number, target: Float32Array, toff: number) { let input = off; const end = toff + len; for (let o = toff; o < end; o++) target[o] = base + (packed[input++] as number) * step; }
console.log('copy', best(() => out.set(src)));
console.log('lib', best(() => { for (let g = 0; g < N / D; g++) unpackAndDequantizeGroup(packed, g * gb, D, bits, 0.5, 0.25, out, g * D); }));
if (bits === 8) console.log('local', best(() => { for (let g = 0; g < N / D; g++) local(packed, g * gb, D, 0.5, 0.25, out, g * D); }));
