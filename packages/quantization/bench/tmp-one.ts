// One width per process, to see the monomorphic figure.
import { packedByteLength, quantizeAndPackGroup, unpackAndDequantizeGroup } from '../src/index.js';
const bits = Number(process.argv[2]), groupLength = Number(process.argv[3]);
const N = 1 << 22; const source = new Float32Array(N).map((_, i) => Math.sin(i * 0.37) * 3); const target = new Float32Array(N);
const gb = packedByteLength(groupLength, bits), G = N / groupLength; const packed = new Uint8Array(G * gb); const p = new Float32Array(2 * G);
const m = (f: () => void) => { f(); let best = Infinity; for (let r = 0; r < 9; r++) { const s = process.cpuUsage(); f(); const u = process.cpuUsage(s); best = Math.min(best, (u.user + u.system) / 1e6); } return (N * 4 / best / 1e9).toFixed(2); };
const copy = m(() => target.set(source));
const q = m(() => { for (let g = 0; g < G; g++) quantizeAndPackGroup(source, g * groupLength, groupLength, 1, bits, packed, g * gb, p, 2 * g); });
const d = m(() => { for (let g = 0; g < G; g++) unpackAndDequantizeGroup(packed, g * gb, groupLength, bits, p[2 * g]!, p[2 * g + 1]!, target, g * groupLength); });
console.log(`bits ${bits} D ${groupLength}: copy ${copy} quantize ${q} dequantize ${d}`);
