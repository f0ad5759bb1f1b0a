import { element, section } from './dom.js';

export interface PromptPanel {
  readonly root: HTMLElement;
  readonly prompt: () => string;
  setRunning(running: boolean): void;
  clearOutput(): void;
  appendOutput(text: string): void;
  /** 'idle' | 'running' | 'done' | 'error', with a line such as the finish reason. */
  setState(state: 'idle' | 'running' | 'done' | 'error', line: string): void;
}

/** The prompt box, Generate / Stop, and the streamed output. */
export function createPromptPanel(initialPrompt: string, callbacks: { onGenerate: () => void; onStop: () => void }): PromptPanel {
  const prompt = element('textarea', { rows: '3', 'data-testid': 'prompt', 'aria-label': 'Prompt' });
  prompt.value = initialPrompt;
  const generate = element('button', { type: 'button', class: 'primary', 'data-testid': 'generate' }, 'Generate');
  const stop = element('button', { type: 'button', 'data-testid': 'stop', disabled: '' }, 'Stop');
  generate.addEventListener('click', callbacks.onGenerate);
  stop.addEventListener('click', callbacks.onStop);
  const output = element('pre', { class: 'output', 'data-testid': 'output', 'aria-live': 'polite' });
  const state = element('p', { class: 'status', 'data-testid': 'generation-state', 'data-state': 'idle' });
  const root = section('Prompt', 'prompt-panel', prompt, element('div', { class: 'row' }, generate, stop), output, state);
  return {
    root,
    prompt: () => prompt.value,
    setRunning(running) {
      generate.disabled = running;
      stop.disabled = !running;
    },
    clearOutput() {
      output.textContent = '';
    },
    appendOutput(text) {
      output.append(text);
    },
    setState(value, line) {
      state.dataset['state'] = value;
      state.textContent = line;
    },
  };
}
