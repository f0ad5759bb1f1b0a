import { WasmAttention } from '../packages/attention-kernel/src/wasm-attention.js';
const mode = process.argv[2] ?? 'ordered';
let state = 17;
const uniform = () => { state = (Math.imul(state, 1664525) + 1013904223) >>> 0; return (state + 0.5) / 2 ** 32; };
const normals = (n: number) => { const o = new Float32Array(n); for (let i = 0; i < n; i++) o[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()); return o; };
const layers = 30, kvHeads = 3, headDim = 64, queryHeads = 9, tokens = 7168;
const kernel = WasmAttention.createSync();
const cache = kernel.createCache({ layers, kvHeads, headDim, outlierFraction: 0, groupLayout: 'token-layer', recentWindow: 0, initialCapacityTokens: tokens });
const tl = kvHeads * headDim; const pool = 256;
const keys = normals(pool * tl), values = normals(pool * tl);
const pick = (table: [number, number][]) => { let u = uniform(); for (const [b, p] of table) { u -= p; if (u <= 0) return b; } return table[table.length - 1]![0]; };
const keyMix: [number, number][] = [[2, 0.3], [3, 0.4], [4, 0.15], [8, 0.15]];
const valueMix: [number, number][] = [[2, 0.8], [3, 0.1], [4, 0.1]];
for (let layer = 0; layer < layers; layer++) {
  const kbits = new Uint8Array(tokens), vbits = new Uint8Array(tokens);
  for (let t = 0; t < tokens; t++) { kbits[t] = pick(keyMix); vbits[t] = pick(valueMix); }
  for (let t = 0; t < tokens; t++) {
    const s = ((t * 7 + layer * 13) % (pool - 1)) * tl;
    const ordered = mode === 'ordered';
    cache.append(layer, keys.subarray(s, s + tl), values.subarray(s, s + tl), 1, ordered ? kbits[t]! : 8, ordered ? vbits[t]! : 8);
  }
  if (mode !== 'ordered') {
    const order = Array.from({ length: tokens }, (_, i) => i);
    for (let i = tokens - 1; i > 0; i--) { const j = Math.floor(uniform() * (i + 1)); [order[i], order[j]] = [order[j]!, order[i]!]; }
    for (const t of order) { if (kbits[t]! < 8) cache.setGroupBits('keys', layer, t, kbits[t]!); if (vbits[t]! < 8) cache.setGroupBits('values', layer, t, vbits[t]!); }
  }
}
const q = normals(queryHeads * headDim); const out = new Float32Array(queryHeads * headDim); const probs = new Float32Array(kvHeads * tokens);
const options = { queryHeads, scoreScale: 1 / 8, fastScores: true, negligibleProbability: Number(process.argv[3] ?? '1e-5') };
for (let i = 0; i < 60; i++) kernel.attendMulti(cache, i % layers, q, 1, options, out, probs);
const reps = 600; const times: number[] = [];
for (let i = 0; i < reps; i++) { const t0 = performance.now(); kernel.attendMulti(cache, i % layers, q, 1, options, out, probs); times.push(performance.now() - t0); }
times.sort((a, b) => a - b);
console.log(mode, 'median', (times[reps >> 1]! * 1000).toFixed(0), 'min', (times[0]! * 1000).toFixed(0), 'µs/call', 'arena MiB', (kernel.memoryBytes / 2 ** 20).toFixed(0));
