// Exact fp16 → fp32 conversion through a 65,536-entry table (256 KiB), built once on first use.
let halfTable: Float32Array | undefined;

function buildHalfTable(): Float32Array {
  const table = new Float32Array(65_536);
  for (let bits = 0; bits < 65_536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    let value: number;
    if (exponent === 0) value = mantissa * 2 ** -24;
    else if (exponent === 31) value = mantissa === 0 ? Infinity : NaN;
    else value = (1024 + mantissa) * 2 ** (exponent - 25);
    table[bits] = sign * value;
  }
  return table;
}

/** The fp16 → fp32 table, indexed by the 16 raw bits. */
export function halfToFloatTable(): Float32Array {
  halfTable ??= buildHalfTable();
  return halfTable;
}

const bfloatScratch = new Uint32Array(1);
const bfloatScratchAsFloat = new Float32Array(bfloatScratch.buffer);

/** bf16 raw bits → fp32 (the upper half of an fp32). */
export function bfloat16ToFloat(bits: number): number {
  bfloatScratch[0] = bits << 16;
  return bfloatScratchAsFloat[0] as number;
}
