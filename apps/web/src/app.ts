import { QaqError } from '@qaq/errors';
import { formatKvMethod, parseKvMethod } from '@qaq/runtime';
import type { AppOptions } from './app-options.js';
import { modelNameFromUrl } from './default-model.js';
import { compactCacheOf, readBitWidths } from './inference/bit-widths.js';
import { runGeneration, type LiveReadout } from './inference/generation-run.js';
import { openModel, type ModelSession } from './inference/model-session.js';
import { kvMethodChoices } from './kv-methods.js';
import { fetchWithProgress } from './model/fetch-with-progress.js';
import { ModelStore, requestPersistentStorage, storageEstimate } from './model/model-store.js';
import { createBitHeatmap } from './ui/bit-heatmap.js';
import { element } from './ui/dom.js';
import { formatBytes } from './ui/format.js';
import { createLivePanel } from './ui/live-panel.js';
import { createModelSourcePanel } from './ui/model-source-panel.js';
import { createPromptPanel } from './ui/prompt-panel.js';
import { createSettingsPanel } from './ui/settings-panel.js';
import { createStoragePanel } from './ui/storage-panel.js';

/** The GGUF bytes in memory, so a KV-method or provider change rebuilds the model without reading storage again. */
interface ModelBytes {
  readonly name: string;
  readonly gguf: Uint8Array;
  /** Where the bytes came from this time. */
  readonly origin: 'browser storage' | 'network' | 'local file';
}

/** Heatmap redraws at most this often while generating (reading every group's tag is O(layers · tokens)). */
const heatmapIntervalMilliseconds = 250;

/** Wires the panels to model loading, storage and generation. */
export function startApp(root: HTMLElement, options: AppOptions): { ready: Promise<void> } {
  const store = new ModelStore();
  let bytes: ModelBytes | null = null;
  let session: ModelSession | null = null;
  let running: AbortController | null = null;

  const source = createModelSourcePanel(options.modelUrl, {
    onLoadUrl: (url) => void guard(() => loadFromUrl(url)),
    onLoadFile: (file) => void guard(() => loadFromFile(file)),
  });
  const storage = createStoragePanel({
    onUse: (name) => void guard(() => loadFromStore(name)),
    onDelete: (name) => void guard(async () => {
      await store.delete(name);
      await refreshStorage();
    }),
  });
  const settings = createSettingsPanel(kvMethodChoices, {
    kvMethod: options.kvMethod,
    provider: options.provider,
    weights: options.weights,
    maxTokens: options.maxTokens,
    temperature: 0,
  });
  const prompt = createPromptPanel(options.prompt, {
    onGenerate: () => void guard(generate),
    onStop: () => running?.abort(),
  });
  const live = createLivePanel();
  const heatmap = createBitHeatmap();
  root.append(
    element('header', {}, element('h1', {}, 'QAQ in the browser'), element('p', { class: 'muted' }, 'Quality-adaptive KV-cache quantization, running on onnxruntime-web with the graphs built from the GGUF in this page.')),
    element('div', { class: 'columns' }, element('div', {}, source.root, settings.root, storage.root), element('div', {}, prompt.root, live.root, heatmap.root)),
  );

  async function guard(action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      const message = error instanceof QaqError ? `${error.code}: ${error.message}` : String(error instanceof Error ? error.message : error);
      console.error(error);
      source.setBusy(false);
      prompt.setRunning(false);
      prompt.setState('error', message);
      source.setStatus(message, 'error');
    }
  }

  async function refreshStorage(): Promise<void> {
    storage.show(await store.list(), await storageEstimate());
  }

  async function loadFromUrl(url: string): Promise<void> {
    const name = modelNameFromUrl(url);
    source.setBusy(true);
    const stored = await store.read(name);
    if (stored !== null) {
      bytes = { name, gguf: stored, origin: 'browser storage' };
      source.setProgress(`${formatBytes(stored.byteLength)} from browser storage`, 1);
    } else {
      source.setStatus(`Downloading ${url}…`, 'loading');
      const gguf = await fetchWithProgress(url, ({ receivedBytes, totalBytes }) =>
        source.setProgress(`${formatBytes(receivedBytes)}${totalBytes === null ? '' : ` of ${formatBytes(totalBytes)}`}`, totalBytes === null ? null : receivedBytes / totalBytes),
      );
      bytes = { name, gguf, origin: 'network' };
      if (options.storeModel) await keep(name, gguf, url);
    }
    await open();
  }

  async function loadFromFile(file: File): Promise<void> {
    source.setBusy(true);
    source.setStatus(`Reading ${file.name}…`, 'loading');
    const gguf = new Uint8Array(await file.arrayBuffer());
    bytes = { name: file.name, gguf, origin: 'local file' };
    await keep(file.name, gguf, `file:${file.name}`);
    await open();
  }

  async function loadFromStore(name: string): Promise<void> {
    source.setBusy(true);
    const gguf = await store.read(name);
    if (gguf === null) throw new QaqError('model-not-stored', `${name} is no longer in browser storage`, { details: { name } });
    bytes = { name, gguf, origin: 'browser storage' };
    await open();
  }

  async function keep(name: string, gguf: Uint8Array, from: string): Promise<void> {
    await requestPersistentStorage();
    await store.write(name, gguf, from);
    await refreshStorage();
  }

  /** (Re)builds the model from the bytes in memory with the current KV method and provider. */
  async function open(): Promise<ModelSession> {
    if (bytes === null) throw new QaqError('no-model', 'load a model first (URL, file, or browser storage)', { details: {} });
    const { kvMethod, provider, weights } = settings.read();
    if (session !== null) {
      await session.loaded.model.dispose();
      session = null;
    }
    source.setBusy(true);
    source.setStatus(`Building ${bytes.name} with the ${kvMethod} cache on ${provider}…`, 'loading');
    session = await openModel({
      gguf: bytes.gguf,
      modelName: bytes.name,
      kvMethod,
      providerChoice: provider,
      weights,
      onStage: (stage, milliseconds) => source.setProgress(`${stage} ${(milliseconds / 1000).toFixed(1)} s`, null),
    });
    const { config, graphBytes, model } = session.loaded;
    source.setProgress(`ready in ${(session.loadMilliseconds / 1000).toFixed(1)} s`, 1);
    source.setStatus(
      `${bytes.name} (from ${bytes.origin}): ${config.layerCount} layers, context ${model.contextLength}, ${formatBytes(graphBytes)} of ONNX graphs (${session.weights} weights), KV method ${session.kvMethod}, provider ${model.provider}.`,
      'ready',
    );
    settings.showProviderUsed(model.provider);
    source.setBusy(false);
    return session;
  }

  function sessionMatchesSettings(current: ModelSession): boolean {
    const wanted = settings.read();
    return current.providerChoice === wanted.provider && current.weights === wanted.weights && current.kvMethod === formatKvMethod(parseKvMethod(wanted.kvMethod));
  }

  function showHeatmap(current: ModelSession): void {
    const cache = compactCacheOf(current.loaded.model);
    if (cache === null) {
      heatmap.show(null, `${current.kvMethod} keeps no compact cache to read bit widths from (fp32: 32 bits everywhere; KIVI: its own cache).`);
      return;
    }
    const matrix = readBitWidths(cache);
    heatmap.show(matrix, `${matrix.layerCount} layers × ${matrix.tokenCount} tokens (${current.kvMethod}).`);
  }

  async function generate(): Promise<void> {
    if (session === null || !sessionMatchesSettings(session)) await open();
    const current = session as ModelSession;
    const { maxTokens, temperature } = settings.read();
    running = new AbortController();
    prompt.setRunning(true);
    prompt.clearOutput();
    prompt.setState('running', 'Generating…');
    live.reset();
    let lastHeatmap = 0;
    const result = await runGeneration(current, {
      prompt: prompt.prompt(),
      maxTokens,
      sampling: temperature === 0 ? { temperature: 0 } : { temperature, topK: 40, topP: 0.95 },
      signal: running.signal,
      onText: (text) => prompt.appendOutput(text),
      onReadout: (readout: LiveReadout) => {
        live.show(readout, current.kvMethod);
        const now = performance.now();
        if (now - lastHeatmap >= heatmapIntervalMilliseconds) {
          lastHeatmap = now;
          showHeatmap(current);
        }
      },
    });
    showHeatmap(current);
    running = null;
    prompt.setRunning(false);
    const { timings } = result;
    prompt.setState(
      'done',
      `${result.tokenIds.length} tokens (${result.finishReason}); prompt ${result.promptTokenCount} tokens at ${timings.prefillTokensPerSecond.toFixed(1)} tok/s, decode ${timings.decodeTokensPerSecond.toFixed(1)} tok/s on ${current.loaded.model.provider}.`,
    );
  }

  const ready = guard(async () => {
    await refreshStorage();
    if (options.autorun) {
      await loadFromUrl(options.modelUrl);
      await generate();
    }
  });
  return { ready };
}
