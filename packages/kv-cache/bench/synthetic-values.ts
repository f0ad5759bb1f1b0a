/** Deterministic synthetic K/V for the benches: Gaussian values, 1% of them ×8 (outliers), from one seeded stream. */
let state = 12345;

export function gaussian(count: number): Float32Array {
  const out = new Float32Array(count);
  for (let index = 0; index < count; index += 1) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const u = (state + 0.5) / 2 ** 32;
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const v = (state + 0.5) / 2 ** 32;
    out[index] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v) * (v < 0.01 ? 8 : 1);
  }
  return out;
}
