/**
 * fp16 → fp32 widening into caller-owned buffers, for graphs fed float32 where the device has no fp16 arithmetic
 * (WebGPU without `shader-f16`). Exact: every half value is a float32. One 65,536-entry table (256 KiB), built on
 * first use.
 */
let widenTable: Float32Array | undefined;

function buildWidenTable(): Float32Array {
  const table = new Float32Array(65_536);
  for (let bits = 0; bits < 65_536; bits += 1) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    let value: number;
    if (exponent === 0) value = mantissa * 2 ** -24;
    else if (exponent === 31) value = mantissa === 0 ? Infinity : Number.NaN;
    else value = (1024 + mantissa) * 2 ** (exponent - 25);
    table[bits] = sign * value;
  }
  return table;
}

/** Writes the float32 value of each half in `source` to `target` (which must be at least as long). */
export function widenFloat16(source: Uint16Array, target: Float32Array): void {
  widenTable ??= buildWidenTable();
  const table = widenTable;
  const length = source.length;
  for (let index = 0; index < length; index += 1) target[index] = table[source[index] as number] as number;
}

/**
 * Reusable float32 buffers by name, grown (doubling) when a request is larger: per call the graph kernel widens
 * one layer's fp16 arrays into them, so transient full precision stays bounded by the largest layer seen.
 */
export class WideningBuffers {
  readonly #buffers = new Map<string, Float32Array>();

  /** `source` widened into the buffer named `name`; returns a view of exactly `source.length` floats. */
  widen(name: string, source: Uint16Array): Float32Array {
    let buffer = this.#buffers.get(name);
    if (buffer === undefined || buffer.length < source.length) {
      buffer = new Float32Array(Math.max(source.length, 2 * (buffer?.length ?? 0)));
      this.#buffers.set(name, buffer);
    }
    const view = buffer.subarray(0, source.length);
    widenFloat16(source, view);
    return view;
  }

  /** Bytes held by all buffers. */
  get bytes(): number {
    let total = 0;
    for (const buffer of this.#buffers.values()) total += buffer.byteLength;
    return total;
  }
}
