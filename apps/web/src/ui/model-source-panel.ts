import { element, section } from './dom.js';

export interface ModelSourceCallbacks {
  readonly onLoadUrl: (url: string) => void;
  readonly onLoadFile: (file: File) => void;
}

export interface ModelSourcePanel {
  readonly root: HTMLElement;
  setBusy(busy: boolean): void;
  /** fraction in [0, 1], or null for an indeterminate bar. */
  setProgress(label: string, fraction: number | null): void;
  setStatus(text: string, state?: 'idle' | 'loading' | 'ready' | 'error'): void;
}

/** Where the GGUF comes from: a URL (the default model's public URL), or a local file picked or dropped. */
export function createModelSourcePanel(initialUrl: string, callbacks: ModelSourceCallbacks): ModelSourcePanel {
  const urlInput = element('input', { type: 'url', 'data-testid': 'model-url', 'aria-label': 'GGUF URL', spellcheck: 'false' });
  urlInput.value = initialUrl;
  const loadButton = element('button', { type: 'button', 'data-testid': 'load-url' }, 'Load');
  loadButton.addEventListener('click', () => callbacks.onLoadUrl(urlInput.value.trim()));

  const fileInput = element('input', { type: 'file', accept: '.gguf', 'data-testid': 'model-file', hidden: '' });
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    if (file !== undefined) callbacks.onLoadFile(file);
    fileInput.value = '';
  });
  const dropZone = element(
    'div',
    { class: 'drop-zone', 'data-testid': 'drop-zone', tabindex: '0', role: 'button' },
    'Drop a .gguf file here, or click to pick one',
  );
  dropZone.addEventListener('click', () => fileInput.click());
  dropZone.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') fileInput.click();
  });
  dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropZone.classList.add('drag-over');
  });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('drag-over'));
  dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    dropZone.classList.remove('drag-over');
    const file = event.dataTransfer?.files[0];
    if (file !== undefined) callbacks.onLoadFile(file);
  });

  const progress = element('progress', { 'data-testid': 'load-progress', max: '1' });
  const progressLabel = element('span', { class: 'muted' });
  const status = element('p', { class: 'status', 'data-testid': 'model-status', 'data-state': 'idle' }, 'No model loaded.');

  const root = section(
    'Model',
    'model-panel',
    element('div', { class: 'row' }, urlInput, loadButton),
    dropZone,
    fileInput,
    element('div', { class: 'row' }, progress, progressLabel),
    status,
  );
  return {
    root,
    setBusy(busy) {
      loadButton.disabled = busy;
      urlInput.disabled = busy;
      dropZone.classList.toggle('disabled', busy);
    },
    setProgress(label, fraction) {
      if (fraction === null) progress.removeAttribute('value');
      else progress.value = fraction;
      progressLabel.textContent = label;
    },
    setStatus(text, state = 'idle') {
      status.textContent = text;
      status.dataset['state'] = state;
    },
  };
}
