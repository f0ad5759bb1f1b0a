import { QaqError } from '@qaq/errors';
import { openModel, type ModelSession } from '../inference/model-session.js';
import { fetchWithProgress } from '../model/fetch-with-progress.js';
import type { MeasurePoint, MeasureRequest, MeasureResult } from './measure-types.js';

/**
 * The measurement page: grows a model's context with real tokens under one KV method and reads `memory()` at
 * checkpoints, then times greedy decode steps. Driven headless by scripts/measure-context.ts.
 */
const modelBytes = new Map<string, Uint8Array>();

async function run(request: MeasureRequest): Promise<MeasureResult> {
  const base = { kvMethod: request.kvMethod, userAgent: navigator.userAgent };
  let gguf = modelBytes.get(request.modelUrl);
  if (gguf === undefined) {
    gguf = await fetchWithProgress(request.modelUrl, () => {});
    modelBytes.set(request.modelUrl, gguf);
  }
  const loadStarted = performance.now();
  let session: ModelSession;
  try {
    session = await openModel({ gguf, modelName: request.modelUrl, kvMethod: request.kvMethod, providerChoice: request.provider, weights: request.weights });
  } catch (error) {
    return { ...base, provider: null, contextLimit: null, loadMilliseconds: 0, points: [], decode: null, error: describe(error) };
  }
  const loadMilliseconds = performance.now() - loadStarted;
  const { model } = session.loaded;
  const points: MeasurePoint[] = [];
  const tokens = Int32Array.from(request.tokens);
  const checkpoints = [...request.checkpoints].filter((point) => point <= Math.min(tokens.length, model.contextLength)).sort((a, b) => a - b);
  const started = performance.now();
  let logits: Float32Array | null = null;
  try {
    for (const checkpoint of checkpoints) {
      while (model.tokenCount < checkpoint) {
        const end = Math.min(checkpoint, model.tokenCount + request.chunkSize);
        logits = await model.forward(tokens.subarray(model.tokenCount, end));
      }
      const memory = model.memory();
      points.push({ contextTokens: model.tokenCount, ...memory, elapsedMilliseconds: performance.now() - started });
      console.log(`[measure] ${session.kvMethod} ${model.tokenCount} tokens: ${memory.bytes} B, ${memory.bitsPerElement.toFixed(3)} bits/element`);
      if (performance.now() - started > request.timeLimitMilliseconds) break;
    }
    let decode: MeasureResult['decode'] = null;
    if (logits !== null && request.decodeSteps > 0 && model.tokenCount + request.decodeSteps <= model.contextLength) {
      const contextTokens = model.tokenCount;
      const next = new Int32Array(1);
      // One untimed step first (it builds the single-token run plan).
      next[0] = argmax(logits);
      logits = await model.forward(next);
      const decodeStarted = performance.now();
      for (let step = 0; step < request.decodeSteps; step++) {
        next[0] = argmax(logits);
        logits = await model.forward(next);
      }
      decode = { contextTokens, steps: request.decodeSteps, tokensPerSecond: (1000 * request.decodeSteps) / (performance.now() - decodeStarted) };
    }
    return { ...base, kvMethod: session.kvMethod, provider: model.provider, contextLimit: model.contextLength, loadMilliseconds, points, decode, error: null };
  } catch (error) {
    return { ...base, kvMethod: session.kvMethod, provider: model.provider, contextLimit: model.contextLength, loadMilliseconds, points, decode: null, error: describe(error) };
  } finally {
    await model.dispose();
  }
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let index = 1; index < values.length; index++) if ((values[index] as number) > (values[best] as number)) best = index;
  return best;
}

function describe(error: unknown): string {
  if (error instanceof QaqError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

// Called by name through @qaq/browser-testing's runPageFunction.
(globalThis as { qaqMeasure?: (request: MeasureRequest) => Promise<MeasureResult> }).qaqMeasure = run;
document.querySelector('#status')?.setAttribute('data-ready', 'true');
