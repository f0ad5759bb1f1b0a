/**
 * Which ONNX operators have kernels on which onnxruntime execution provider, for the ops the compact-cache attention
 * graph (and any graph audited with `checkGraphOperators`) may use. A node whose op, version or element type is not
 * listed for a provider would be placed on the CPU by onnxruntime (a silent fallback), so the audit refuses it.
 *
 * Sources (read, not run here — no GPU on the development machine):
 * - CUDA: onnxruntime `docs/OperatorKernels.md` (generated from the registered kernels; commit 001d12d2), section
 *   CUDAExecutionProvider: no BitShift, no Bitwise*, DequantizeLinear 19–20 for int8/uint8 (21+: also int4/uint4).
 * - WebGPU (the native EP of onnxruntime-web/webgpu and onnxruntime-node): `onnxruntime/core/providers/webgpu/
 *   webgpu_execution_provider.cc` (commit 003f772b; kernel classes and version ranges), `tensor/cast.cc` (920ed586:
 *   Cast between float16, float, int32, uint32, bool only — no uint8, no int64), `tensor/gather.cc` (4a4aedcc: data
 *   float, float16, int32, uint32; indices int32/int64), and the typed DequantizeLinear kernels (uint8, int8, int32).
 *   No BitShift/Bitwise*, no And/Or, no Mod, no ScatterElements in that registration list (newer sources add
 *   ScatterElements; not relied on). Transpose is registered for 1–12 and 13–20 only, hence opset 20.
 * - CPU: every op below runs in this package's tests on onnxruntime-node's CPU EP.
 *
 * Element types are ONNX TensorProto.DataType codes.
 */

export type AuditedProvider = 'cpu' | 'cuda' | 'webgpu';

export const ONNX_TYPE = { float: 1, uint8: 2, int8: 3, uint16: 4, int16: 5, int32: 6, int64: 7, bool: 9, float16: 10, double: 11, uint32: 12, uint64: 13 } as const;

/** A kernel registration: schema since-versions [since, until] (until null = open) and the element types it takes. */
export interface KernelRange {
  readonly since: number;
  readonly until: number | null;
}

export interface OperatorKernels {
  readonly ranges: readonly KernelRange[];
  /** Types accepted on the checked input (`checkedInput`, default 0); null = any fixed-size type (shape ops). */
  readonly types: readonly number[] | null;
  /** Cast: the types it may produce. */
  readonly outputTypes?: readonly number[];
  readonly checkedInput?: number;
}

/** Highest opset whose schema versions below are complete. */
export const MAX_AUDITED_OPSET = 21;

/** ONNX schema since-versions of each audited op (onnx/defs, through opset 21): a node at opset k uses the largest ≤ k. */
export const ONNX_SCHEMA_VERSIONS: Readonly<Record<string, readonly number[]>> = {
  Add: [1, 6, 7, 13, 14],
  Sub: [1, 6, 7, 13, 14],
  Mul: [1, 6, 7, 13, 14],
  Div: [1, 6, 7, 13, 14],
  Floor: [1, 6, 13],
  Equal: [1, 7, 11, 13, 19],
  Greater: [1, 7, 9, 13],
  LessOrEqual: [12, 16],
  Where: [9, 16],
  MatMul: [1, 9, 13],
  Softmax: [1, 11, 13],
  ReduceMax: [1, 11, 12, 13, 18, 20],
  ReduceSum: [1, 11, 13],
  Reshape: [1, 5, 13, 14, 19, 21],
  Transpose: [1, 13, 21],
  Unsqueeze: [1, 11, 13, 21],
  Gather: [1, 11, 13],
  Concat: [1, 4, 11, 13],
  Cast: [1, 6, 9, 13, 19, 21],
  DequantizeLinear: [10, 13, 19, 21],
  CumSum: [11, 14],
  Split: [1, 2, 11, 13, 18],
  GatherElements: [11, 13],
};

const { float, float16, int32, uint32, uint8, int8, int64, double, bool } = ONNX_TYPE;
const open = (since: number): KernelRange => ({ since, until: null });
const closed = (since: number, until: number): KernelRange => ({ since, until });
const webGpuNumbers = [float, float16, int32, uint32];
const cudaNumbers = [float, float16, double, int32, int64, uint32];

const WEBGPU: Readonly<Record<string, OperatorKernels>> = {
  Add: { ranges: [closed(7, 12), closed(13, 13), open(14)], types: webGpuNumbers },
  Sub: { ranges: [closed(7, 12), closed(13, 13), open(14)], types: webGpuNumbers },
  Mul: { ranges: [closed(7, 12), closed(13, 13), open(14)], types: webGpuNumbers },
  Div: { ranges: [closed(7, 12), closed(13, 13), open(14)], types: webGpuNumbers },
  Floor: { ranges: [closed(6, 12), open(13)], types: [float, float16] },
  Equal: { ranges: [closed(7, 10), closed(11, 12), closed(13, 18), open(19)], types: webGpuNumbers },
  Greater: { ranges: [closed(7, 8), closed(9, 12), open(13)], types: webGpuNumbers },
  LessOrEqual: { ranges: [closed(12, 15), open(16)], types: webGpuNumbers },
  Where: { ranges: [closed(9, 15), open(16)], types: webGpuNumbers, checkedInput: 1 },
  MatMul: { ranges: [closed(1, 12), open(13)], types: [float, float16] },
  Softmax: { ranges: [closed(1, 10), closed(11, 12), open(13)], types: [float, float16] },
  ReduceMax: { ranges: [closed(1, 10), closed(11, 11), closed(12, 12), closed(13, 17), closed(18, 19), open(20)], types: [float, float16] },
  ReduceSum: { ranges: [closed(1, 10), closed(11, 12), open(13)], types: [float, float16] },
  Reshape: { ranges: [closed(5, 12), closed(13, 13), closed(14, 18), closed(19, 20), open(21)], types: null },
  Transpose: { ranges: [closed(1, 12), closed(13, 20)], types: webGpuNumbers },
  Unsqueeze: { ranges: [closed(1, 10), closed(11, 12), open(13)], types: null },
  Gather: { ranges: [closed(1, 10), closed(11, 12), open(13)], types: webGpuNumbers },
  Concat: { ranges: [closed(1, 3), closed(4, 10), closed(11, 12), open(13)], types: webGpuNumbers },
  Cast: { ranges: [closed(6, 8), closed(9, 12), closed(13, 18), open(19)], types: [float16, float, int32, uint32, bool], outputTypes: [float16, float, int32, uint32, bool] },
  DequantizeLinear: { ranges: [closed(10, 12), closed(13, 18), closed(19, 20), open(21)], types: [uint8, int8, int32] },
  CumSum: { ranges: [closed(11, 13), open(14)], types: [float] },
  Split: { ranges: [closed(1, 1), closed(2, 10), closed(11, 12), closed(13, 17), open(18)], types: webGpuNumbers },
  GatherElements: { ranges: [closed(11, 12), open(13)], types: webGpuNumbers },
};

const CUDA: Readonly<Record<string, OperatorKernels>> = {
  Add: { ranges: [closed(7, 12), closed(13, 13), open(14)], types: cudaNumbers },
  Sub: { ranges: [closed(7, 12), closed(13, 13), open(14)], types: cudaNumbers },
  Mul: { ranges: [closed(7, 12), closed(13, 13), open(14)], types: cudaNumbers },
  Div: { ranges: [closed(7, 12), closed(13, 13), open(14)], types: cudaNumbers },
  Floor: { ranges: [closed(6, 12), open(13)], types: [float, float16, double] },
  Equal: { ranges: [closed(11, 12), open(13)], types: [...cudaNumbers, bool] },
  Greater: { ranges: [closed(9, 12), open(13)], types: cudaNumbers },
  LessOrEqual: { ranges: [closed(12, 15), open(16)], types: cudaNumbers },
  Where: { ranges: [closed(9, 15), open(16)], types: [float, float16, double, int32, int64, uint8], checkedInput: 1 },
  MatMul: { ranges: [closed(1, 8), closed(9, 12), open(13)], types: [float, float16, double] },
  Softmax: { ranges: [closed(1, 10), closed(11, 12), open(13)], types: [float, float16, double] },
  ReduceMax: { ranges: [closed(1, 17), open(18)], types: [float, float16, double, int32, int64] },
  ReduceSum: { ranges: [closed(1, 12), open(13)], types: [float, float16, double, int32, int64] },
  Reshape: { ranges: [closed(5, 12), closed(13, 13), closed(14, 18), closed(19, 20), closed(21, 22), open(23)], types: null },
  Transpose: { ranges: [closed(1, 12), closed(13, 20), closed(21, 22), open(23)], types: null },
  Unsqueeze: { ranges: [closed(1, 10), closed(11, 12), closed(13, 20), closed(21, 22), open(23)], types: null },
  Gather: { ranges: [closed(1, 10), closed(11, 12), open(13)], types: null },
  Concat: { ranges: [closed(4, 10), closed(11, 12), open(13)], types: null },
  Cast: { ranges: [closed(6, 8), closed(9, 12), closed(13, 18), closed(19, 20), open(21)], types: null, outputTypes: [float, float16, double, int32, int64, uint8, int8, uint32, bool] },
  DequantizeLinear: { ranges: [closed(10, 12), closed(13, 18), closed(19, 20), open(21)], types: [uint8, int8] },
  CumSum: { ranges: [closed(11, 13), open(14)], types: [float, double, int32, int64, uint32] },
  Split: { ranges: [closed(2, 10), closed(11, 12), closed(13, 17), open(18)], types: null },
  GatherElements: { ranges: [closed(11, 12), open(13)], types: null },
};

const CPU: Readonly<Record<string, OperatorKernels>> = Object.fromEntries(
  Object.keys(ONNX_SCHEMA_VERSIONS).map((op) => [op, { ranges: [open(1)], types: null }]),
);

/** The kernel tables per provider. */
export const EXECUTION_PROVIDER_KERNELS: Readonly<Record<AuditedProvider, Readonly<Record<string, OperatorKernels>>>> = {
  cpu: CPU,
  cuda: CUDA,
  webgpu: WEBGPU,
};
