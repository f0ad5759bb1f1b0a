import { fixtureModelHex } from './fixtures.generated.js';

/** The conformance models, by name (see scripts/generate-fixtures.py for what each computes). */
export type FixtureName = keyof typeof fixtureModelHex;

/** The operators each fixture needs (ONNX op_type, default domain), so suites can skip what a backend lacks. */
export const fixtureOperators: Readonly<Record<FixtureName, readonly string[]>> = {
  add: ['Add'],
  matmul: ['MatMul'],
  softmax: ['Softmax'],
  roundTrip: ['Identity'],
  multiOutput: ['Add', 'Mul', 'Neg'],
};

function hexToBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let index = 0; index < bytes.length; index += 1) {
    bytes[index] = Number.parseInt(hex.slice(index * 2, index * 2 + 2), 16);
  }
  return bytes;
}

/** A fresh copy of a fixture model's ONNX bytes. */
export function fixtureModel(name: FixtureName): Uint8Array {
  return hexToBytes(fixtureModelHex[name]);
}
