/**
 * onnxruntime-web reports everything as a plain Error (its WebAssembly module's last error text). These patterns
 * tell a model that cannot load apart from a provider that cannot start, which decides between 'invalid-model' and
 * trying the next provider.
 */
const modelProblems = [
  /protobuf parsing failed/i,
  /INVALID_PROTOBUF/,
  /INVALID_GRAPH/,
  /INVALID_ARGUMENT/,
  /Load model/i,
  /model_load_utils|ir version|opset/i,
  /NOT_IMPLEMENTED : Could not find an implementation/i,
  /ShapeInferenceError|TypeInferenceError/,
  /buffer is empty|Invalid model/i,
  /Can't create a session/i,
];

export function isModelProblem(message: string): boolean {
  return modelProblems.some((pattern) => pattern.test(message));
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
