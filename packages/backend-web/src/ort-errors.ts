import { isModelProblem as isOrtModelProblem } from '@qaq/backend-common';

export { messageOf } from '@qaq/backend-common';

/** onnxruntime-web's WebAssembly module also reports a model it cannot load as a session it cannot create. */
const webModelProblems = [/Can't create a session/i];

export function isModelProblem(message: string): boolean {
  return isOrtModelProblem(message, webModelProblems);
}
