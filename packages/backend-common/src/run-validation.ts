// Every backend must reject the same feeds the same way: this is the one implementation of those checks.
import type { BackendTensor, Feeds, RunOptions, ValueMetadata } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';

/** What a valid run asks for: the output names to fetch, in model order, and the bound symbolic dimensions. */
export interface ValidatedRun {
  readonly fetchNames: readonly string[];
  readonly symbols: ReadonlyMap<string, number>;
}

function shapeProblem(
  metadata: ValueMetadata,
  tensor: BackendTensor,
  symbols: Map<string, number>,
  bindSymbols: boolean,
): string | undefined {
  const declared = metadata.dimensions;
  if (declared === undefined) return undefined;
  if (declared.length !== tensor.dimensions.length) return `rank ${tensor.dimensions.length}, expected ${declared.length}`;
  for (const [axis, dimension] of declared.entries()) {
    const actual = tensor.dimensions[axis] ?? -1;
    if (typeof dimension === 'number') {
      if (dimension !== actual) return `dimension ${axis} is ${actual}, expected ${dimension}`;
    } else if (dimension !== '') {
      const bound = symbols.get(dimension);
      if (bound === undefined) {
        if (bindSymbols) symbols.set(dimension, actual);
      } else if (bound !== actual) {
        return `dimension ${axis} ('${dimension}') is ${actual}, but '${dimension}' is ${bound} elsewhere in this run`;
      }
    }
  }
  return undefined;
}

function checkTensorUsable(tensor: BackendTensor): void {
  if (tensor.disposed) throw new QaqError('tensor-disposed', 'A disposed tensor was passed to run', { details: {} });
}

/**
 * Checks feeds, fetches and preallocated outputs against the model's metadata before anything runs, so bad input
 * gives a typed error and never reaches the runtime. Symbolic dimensions bind on first use and must agree after;
 * `fixedSymbols` (free-dimension overrides) are bound from the start.
 */
export function validateRun(
  inputs: readonly ValueMetadata[],
  outputs: readonly ValueMetadata[],
  feeds: Feeds,
  options: RunOptions = {},
  fixedSymbols: Readonly<Record<string, number>> = {},
): ValidatedRun {
  const inputByName = new Map(inputs.map((input) => [input.name, input]));
  const outputByName = new Map(outputs.map((output) => [output.name, output]));
  const symbols = new Map<string, number>(Object.entries(fixedSymbols));
  for (const name of Object.keys(feeds)) {
    if (!inputByName.has(name)) {
      throw new QaqError('invalid-feed', `'${name}' is not an input of the model`, {
        details: { name, reason: 'unknown-input', expected: [...inputByName.keys()] },
      });
    }
  }
  for (const input of inputs) {
    const tensor = feeds[input.name];
    if (tensor === undefined) {
      throw new QaqError('invalid-feed', `Input '${input.name}' is missing from the feeds`, {
        details: { name: input.name, reason: 'missing-input' },
      });
    }
    checkTensorUsable(tensor);
    if (input.dataType !== undefined && tensor.dataType !== input.dataType) {
      throw new QaqError('invalid-feed', `Input '${input.name}' must be ${input.dataType}, got ${tensor.dataType}`, {
        details: { name: input.name, reason: 'wrong-type', expected: input.dataType, actual: tensor.dataType },
      });
    }
    const problem = shapeProblem(input, tensor, symbols, true);
    if (problem !== undefined) {
      throw new QaqError('invalid-feed', `Input '${input.name}' has the wrong shape: ${problem}`, {
        details: { name: input.name, reason: 'wrong-shape', expected: input.dimensions, actual: tensor.dimensions },
      });
    }
  }
  const preallocated = options.outputs ?? {};
  const requested = new Set([...(options.fetches ?? outputs.map((output) => output.name)), ...Object.keys(preallocated)]);
  for (const name of requested) {
    if (!outputByName.has(name)) {
      throw new QaqError('invalid-fetch', `'${name}' is not an output of the model`, {
        details: { name, expected: [...outputByName.keys()] },
      });
    }
  }
  for (const [name, tensor] of Object.entries(preallocated)) {
    const output = outputByName.get(name);
    if (output === undefined) continue;
    checkTensorUsable(tensor);
    if (output.dataType !== undefined && tensor.dataType !== output.dataType) {
      throw new QaqError('invalid-output', `Output '${name}' is ${output.dataType}, the preallocated tensor ${tensor.dataType}`, {
        details: { name, reason: 'wrong-type', expected: output.dataType, actual: tensor.dataType },
      });
    }
    // Output-only symbols are left unbound: the runtime checks those when it writes.
    const problem = shapeProblem(output, tensor, symbols, false);
    if (problem !== undefined) {
      throw new QaqError('invalid-output', `Preallocated output '${name}' has the wrong shape: ${problem}`, {
        details: { name, reason: 'wrong-shape', expected: output.dimensions, actual: tensor.dimensions },
      });
    }
  }
  const fetchNames = outputs.map((output) => output.name).filter((name) => requested.has(name));
  return { fetchNames, symbols };
}
