import type { TensorDataType } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import { broadcastIndices, broadcastShape } from './broadcast.js';
import { allocate } from '@qaq/backend-common';
import type { GraphNode, MockValue } from './onnx-model.js';

/**
 * Evaluates one node: its input values in order (undefined for omitted optional inputs) to its output values in
 * order. User kernels have the same shape, so code above the backend can plug in the ops it needs.
 */
export type Kernel = (inputs: readonly (MockValue | undefined)[], node: GraphNode) => readonly MockValue[];

const numericTypes: readonly TensorDataType[] = ['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32'];

function unsupported(node: GraphNode, reason: string): QaqError {
  return new QaqError('unsupported-operator', `The mock cannot evaluate ${node.opType} '${node.name}': ${reason}`, {
    details: { operator: node.opType, node: node.name, reason },
  });
}

function required(node: GraphNode, inputs: readonly (MockValue | undefined)[], index: number): MockValue {
  const value = inputs[index];
  if (value === undefined) throw unsupported(node, `input ${index} is missing`);
  return value;
}

function elementwise(
  numberOperation: (left: number, right: number) => number,
  bigintOperation: (left: bigint, right: bigint) => bigint,
): Kernel {
  return (inputs, node) => {
    const left = required(node, inputs, 0);
    const right = required(node, inputs, 1);
    if (left.dataType !== right.dataType) throw unsupported(node, `mixed element types ${left.dataType} and ${right.dataType}`);
    const shape = broadcastShape(left.dimensions, right.dimensions);
    const leftIndices = broadcastIndices(left.dimensions, shape);
    const rightIndices = broadcastIndices(right.dimensions, shape);
    const result = allocate(left.dataType, leftIndices.length);
    if (left.dataType === 'int64' || left.dataType === 'uint64') {
      const [leftData, rightData, output] = [left.data, right.data, result] as BigInt64Array[];
      for (let index = 0; index < leftIndices.length; index += 1) {
        output![index] = bigintOperation(leftData![leftIndices[index]!]!, rightData![rightIndices[index]!]!);
      }
    } else if (numericTypes.includes(left.dataType)) {
      const [leftData, rightData, output] = [left.data, right.data, result] as Float64Array[];
      // Computed in float64 and rounded once on store: the correctly rounded float32 result for + - * /.
      for (let index = 0; index < leftIndices.length; index += 1) {
        output![index] = numberOperation(leftData![leftIndices[index]!]!, rightData![rightIndices[index]!]!);
      }
    } else throw unsupported(node, `no arithmetic on ${left.dataType}`);
    return [{ dataType: left.dataType, dimensions: shape, data: result }];
  };
}

const identity: Kernel = (inputs, node) => {
  const value = required(node, inputs, 0);
  return [{ dataType: value.dataType, dimensions: [...value.dimensions], data: value.data.slice() }];
};

const negate: Kernel = (inputs, node) => {
  const value = required(node, inputs, 0);
  if (value.dataType === 'int64') return [{ ...value, data: (value.data as BigInt64Array).map((element) => -element) }];
  if (!numericTypes.includes(value.dataType)) throw unsupported(node, `no Neg on ${value.dataType}`);
  return [{ ...value, data: (value.data as Float64Array).map((element) => -element) }];
};

/** MatMul on [..., rows, inner] x [..., inner, columns] with equal leading dimensions, accumulated in float64. */
const matMul: Kernel = (inputs, node) => {
  const left = required(node, inputs, 0);
  const right = required(node, inputs, 1);
  if (left.dataType !== right.dataType || (left.dataType !== 'float32' && left.dataType !== 'float64')) {
    throw unsupported(node, `MatMul needs two float32 or float64 inputs, got ${left.dataType} and ${right.dataType}`);
  }
  const rank = left.dimensions.length;
  if (rank < 2 || right.dimensions.length !== rank || left.dimensions.slice(0, -2).some((size, axis) => size !== right.dimensions[axis])) {
    throw unsupported(node, `shapes [${left.dimensions.join(', ')}] x [${right.dimensions.join(', ')}] (same rank >= 2, same batch dims)`);
  }
  const [rows, inner] = left.dimensions.slice(-2) as [number, number];
  const [rightInner, columns] = right.dimensions.slice(-2) as [number, number];
  if (inner !== rightInner) {
    throw new QaqError('run-failed', `MatMul inner dimensions differ: ${inner} and ${rightInner}`, { details: { reason: 'shape' } });
  }
  const batches = left.dimensions.slice(0, -2).reduce((product, size) => product * size, 1);
  const leftData = left.data as Float64Array;
  const rightData = right.data as Float64Array;
  const output = allocate(left.dataType, batches * rows * columns) as Float64Array;
  for (let batch = 0; batch < batches; batch += 1) {
    for (let row = 0; row < rows; row += 1) {
      for (let column = 0; column < columns; column += 1) {
        let sum = 0;
        for (let step = 0; step < inner; step += 1) {
          sum += leftData[batch * rows * inner + row * inner + step]! * rightData[batch * inner * columns + step * columns + column]!;
        }
        output[batch * rows * columns + row * columns + column] = sum;
      }
    }
  }
  return [{ dataType: left.dataType, dimensions: [...left.dimensions.slice(0, -2), rows, columns], data: output }];
};

/** Softmax along `axis` (opset 13 semantics, default -1), max-subtracted, in float64. */
const softmax: Kernel = (inputs, node) => {
  const value = required(node, inputs, 0);
  if (value.dataType !== 'float32' && value.dataType !== 'float64') throw unsupported(node, `no Softmax on ${value.dataType}`);
  const rank = value.dimensions.length;
  const axisAttribute = node.attributes.get('axis');
  const axis = Number(typeof axisAttribute === 'bigint' || typeof axisAttribute === 'number' ? axisAttribute : -1);
  const normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) throw unsupported(node, `axis ${axis} out of range for rank ${rank}`);
  const width = value.dimensions[normalized] ?? 1;
  const inner = value.dimensions.slice(normalized + 1).reduce((product, size) => product * size, 1);
  const outer = value.dimensions.slice(0, normalized).reduce((product, size) => product * size, 1);
  const data = value.data as Float64Array;
  const output = allocate(value.dataType, data.length) as Float64Array;
  const row = new Float64Array(width);
  for (let outerIndex = 0; outerIndex < outer; outerIndex += 1) {
    for (let innerIndex = 0; innerIndex < inner; innerIndex += 1) {
      const base = outerIndex * width * inner + innerIndex;
      let maximum = Number.NEGATIVE_INFINITY;
      for (let step = 0; step < width; step += 1) maximum = Math.max(maximum, data[base + step * inner]!);
      let total = 0;
      for (let step = 0; step < width; step += 1) {
        row[step] = Math.exp(data[base + step * inner]! - maximum);
        total += row[step]!;
      }
      for (let step = 0; step < width; step += 1) output[base + step * inner] = row[step]! / total;
    }
  }
  return [{ dataType: value.dataType, dimensions: [...value.dimensions], data: output }];
};

/** The operators the mock evaluates itself, by op_type in the default ONNX domain. */
export const builtInKernels: Readonly<Record<string, Kernel>> = {
  Identity: identity,
  Add: elementwise((left, right) => left + right, (left, right) => left + right),
  Sub: elementwise((left, right) => left - right, (left, right) => left - right),
  Mul: elementwise((left, right) => left * right, (left, right) => left * right),
  Div: elementwise((left, right) => left / right, (left, right) => left / right),
  Neg: negate,
  MatMul: matMul,
  Softmax: softmax,
};

/** The key a kernel is registered under: op_type in the default domain, 'domain:op_type' elsewhere. */
export function kernelKey(node: Pick<GraphNode, 'domain' | 'opType'>): string {
  return node.domain === '' ? node.opType : `${node.domain}:${node.opType}`;
}
