/** RGB of a bit width: a dark-to-bright ramp over 1..8 bits, a separate colour for fp16, background for none. */
export function bitWidthColor(bits: number): readonly [number, number, number] {
  if (bits <= 0) return [24, 26, 32];
  if (bits > 8) return [236, 236, 236]; // fp16 (the recent window, or the fp16 method)
  // Viridis-like stops at 1, 2, 4, 8 bits, interpolated on log2(bits).
  const stops: readonly (readonly [number, number, number])[] = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [253, 231, 37],
  ];
  const position = Math.min(3, Math.max(0, Math.log2(bits)));
  const lower = Math.floor(position);
  const upper = Math.min(3, lower + 1);
  const fraction = position - lower;
  const from = stops[lower] as readonly [number, number, number];
  const to = stops[upper] as readonly [number, number, number];
  return [
    Math.round(from[0] + (to[0] - from[0]) * fraction),
    Math.round(from[1] + (to[1] - from[1]) * fraction),
    Math.round(from[2] + (to[2] - from[2]) * fraction),
  ];
}
