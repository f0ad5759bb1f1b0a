/**
 * onnxruntime (node and web) reports everything as a plain Error. These patterns tell a model that cannot load
 * apart from a provider that cannot start, which decides between 'invalid-model' and trying the next provider.
 */
const modelProblems: readonly RegExp[] = [
  /protobuf parsing failed/i,
  /INVALID_PROTOBUF/,
  /INVALID_GRAPH/,
  /INVALID_ARGUMENT/,
  /Load model/i,
  /model_load_utils|ir version|opset/i,
  /NOT_IMPLEMENTED : Could not find an implementation/i,
  /ShapeInferenceError|TypeInferenceError/,
  /buffer is empty|Invalid model/i,
];

/** Whether an onnxruntime error message means the model (not the provider) is at fault; `extraPatterns` add a runtime's own. */
export function isModelProblem(message: string, extraPatterns: readonly RegExp[] = []): boolean {
  return modelProblems.some((pattern) => pattern.test(message)) || extraPatterns.some((pattern) => pattern.test(message));
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
