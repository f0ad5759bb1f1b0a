let tail: Promise<unknown> = Promise.resolve();

/**
 * Runs session creations one at a time. onnxruntime-web's WebGPU provider throws "another WebGPU EP inference
 * session is being created" when two start together (its device registration is global to the page), so every
 * session this package creates, probes included, goes through here.
 */
export function createSessionsInTurn<T>(create: () => Promise<T>): Promise<T> {
  const result = tail.then(create, create);
  tail = result.catch(() => undefined);
  return result;
}
