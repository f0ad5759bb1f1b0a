import { QaqError } from '@qaq/errors';
import {
  EXECUTION_PROVIDER_KERNELS,
  MAX_AUDITED_OPSET,
  ONNX_SCHEMA_VERSIONS,
  ONNX_TYPE,
  type AuditedProvider,
} from './execution-provider-kernels.js';
import { readModelOperators, type ModelNode } from './onnx/read-model-operators.js';

/** One operator use in a model: the op at its resolved schema version and the element type of its checked input. */
export interface GraphOperatorUse {
  readonly opType: string;
  readonly domain: string;
  /** The ONNX schema since-version the node resolves to at the model's opset (null: op not in the audited table). */
  readonly sinceVersion: number | null;
  /** Element types (ONNX codes) of the inputs, null where one could not be inferred. */
  readonly inputTypes: readonly (number | null)[];
  /** Cast only: the target type. */
  readonly outputType: number | null;
  /** DequantizeLinear/QuantizeLinear only: the `block_size` attribute (blockwise quantization), null when absent. */
  readonly blockSize: number | null;
  readonly node: string;
}

export interface OperatorProblem {
  readonly node: string;
  readonly opType: string;
  readonly reason: string;
}

const COMPARISONS = new Set(['Equal', 'Greater', 'GreaterOrEqual', 'Less', 'LessOrEqual', 'Not', 'And', 'Or', 'Xor']);

/** Output element type of a node from its input types (the rules of the ops this package emits). */
function outputTypeOf(node: ModelNode, typeOf: (name: string) => number | null): number | null {
  if (node.opType === 'Cast') return node.intAttributes['to'] ?? null;
  if (node.opType === 'DequantizeLinear') return typeOf(node.inputs[1] ?? '');
  if (COMPARISONS.has(node.opType)) return ONNX_TYPE.bool;
  if (node.opType === 'Shape' || node.opType === 'Size') return ONNX_TYPE.int64;
  if (node.opType === 'Where') return typeOf(node.inputs[1] ?? '');
  return typeOf(node.inputs[0] ?? '');
}

/** Lists every node of a model with its resolved schema version and inferred input type, in graph order. */
export function listGraphOperators(model: Uint8Array): GraphOperatorUse[] {
  const { opsets, nodes, valueTypes } = readModelOperators(model);
  const opset = opsets.get('') ?? 0;
  if (opset > MAX_AUDITED_OPSET) {
    throw new QaqError('unaudited-opset', `the operator tables cover opsets up to ${MAX_AUDITED_OPSET}`, { details: { opset } });
  }
  const types = new Map(valueTypes);
  const typeOf = (name: string): number | null => types.get(name) ?? null;
  return nodes.map((node) => {
    const versions = node.domain === '' ? ONNX_SCHEMA_VERSIONS[node.opType] : undefined;
    const sinceVersion = versions === undefined ? null : versions.filter((version) => version <= opset).pop() ?? null;
    const output = outputTypeOf(node, typeOf);
    for (const name of node.outputs) if (output !== null) types.set(name, output);
    return {
      opType: node.opType,
      domain: node.domain,
      sinceVersion,
      inputTypes: node.inputs.map(typeOf),
      outputType: node.opType === 'Cast' ? output : null,
      blockSize: node.intAttributes['block_size'] ?? null,
      node: node.name,
    };
  });
}

/**
 * Checks a model against a provider's kernel table (see execution-provider-kernels.ts): every node must be an
 * audited op whose resolved version lies in a registered range and whose checked input type (and, for Cast, output
 * type) the provider's kernel takes. Returns the problems; an empty list means no node would fall back to the CPU.
 */
export function checkGraphOperators(model: Uint8Array, provider: AuditedProvider): OperatorProblem[] {
  const table = EXECUTION_PROVIDER_KERNELS[provider];
  const problems: OperatorProblem[] = [];
  for (const use of listGraphOperators(model)) {
    const problem = (reason: string): void => {
      problems.push({ node: use.node, opType: use.opType, reason });
    };
    const kernels = use.domain === '' ? table[use.opType] : undefined;
    if (kernels === undefined || use.sinceVersion === null) {
      problem(`${use.domain === '' ? '' : `${use.domain}:`}${use.opType} is not in the ${provider} kernel table`);
      continue;
    }
    const version = use.sinceVersion;
    if (!kernels.ranges.some((range) => version >= range.since && (range.until === null || version <= range.until))) {
      problem(`${use.opType}-${version} has no ${provider} kernel`);
    }
    const inputType = use.inputTypes[kernels.checkedInput ?? 0] ?? null;
    if (kernels.types !== null && (inputType === null || !kernels.types.includes(inputType))) {
      problem(`${use.opType} on element type ${String(inputType)} has no ${provider} kernel`);
    }
    if (kernels.outputTypes !== undefined && (use.outputType === null || !kernels.outputTypes.includes(use.outputType))) {
      problem(`${use.opType} to element type ${String(use.outputType)} has no ${provider} kernel`);
    }
    // A kernel that exists but computes wrong values: refused like a missing one (the audit can't see input ranks).
    if (provider === 'webgpu' && use.opType === 'DequantizeLinear' && use.blockSize !== null) {
      problem('DequantizeLinear with block_size: onnxruntime 1.30 WebGPU dequantizes 1-D blockwise inputs per axis (wrong values, onnxruntime#32730)');
    }
  }
  return problems;
}
