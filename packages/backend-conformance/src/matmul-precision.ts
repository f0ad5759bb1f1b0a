/**
 * How a provider multiplies float32 matrices, and the error `matmul-numerics` allows for it.
 *
 * `float32`: IEEE single precision throughout. `tf32`: NVIDIA tensor-core TensorFloat-32 — the inputs keep 10 of
 * float32's 23 mantissa bits, products are accumulated in float32. onnxruntime's CUDA provider uses TF32 for float32
 * MatMul/Gemm on Ampere and newer GPUs by default (its `use_tf32` provider option, on unless set to 0), and
 * onnxruntime-node 1.30 passes no CUDA provider option but `deviceId`, so a backend on it cannot turn TF32 off.
 * Seen on an NVIDIA H200: product 2x3x4[0] came back as 0.0052562 for an exact 0.0052021 (docs/gpu.md).
 */
export type MatMulPrecision = 'float32' | 'tf32';

/** Providers whose float32 MatMul runs in reduced precision by default; every other provider is held to float32. */
export const reducedPrecisionMatMulProviders: Readonly<Record<string, MatMulPrecision>> = { cuda: 'tf32' };

// float32 keeps 24 significant bits: 2^-23 relative per rounding.
const float32Epsilon = 2 ** -23;
// TF32 keeps 10 explicit mantissa bits: converting a float32 to it moves the value by less than 2^-10 relative,
// whether the hardware truncates or rounds to nearest.
const tf32Epsilon = 2 ** -10;

/** The precision `matmul-numerics` assumes for a session on `provider`; `strictFloat32` holds every provider to float32. */
export function matMulPrecision(provider: string, strictFloat32 = false): MatMulPrecision {
  if (strictFloat32) return 'float32';
  return Object.hasOwn(reducedPrecisionMatMulProviders, provider) ? reducedPrecisionMatMulProviders[provider]! : 'float32';
}

/**
 * The largest error allowed for one element of a [rows, inner] @ [inner, columns] product whose terms' absolute
 * values sum to `magnitude` (Σ|aᵢ·bᵢ|, from `referenceMatMul`).
 *
 * float32: any summation order stays within inner·ε·Σ|terms| of the exact sum; 2(inner + 1)·2⁻²³·Σ leaves room
 * for fused multiply-adds. tf32: each input is off by less than 2⁻¹⁰ relative, so each product by less than
 * (2·2⁻¹⁰ + 2⁻²⁰) relative (the product of two 11-bit significands is exact in float32), plus the float32
 * accumulation bound above: about 2⁻⁹·Σ|aᵢ·bᵢ| whatever `inner` is. A wrong or missing term, a transposed operand
 * or a wrong accumulator type is still caught: those errors are of the order of a whole term.
 */
export function matMulTolerance(precision: MatMulPrecision, inner: number, magnitude: number): number {
  const accumulation = 2 * (inner + 1) * float32Epsilon * magnitude + 1e-30;
  if (precision === 'float32') return accumulation;
  return (2 * tf32Epsilon + tf32Epsilon ** 2) * magnitude + accumulation;
}
