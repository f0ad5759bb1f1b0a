import type { StoredModel } from '../model/model-store.js';
import { element, section } from './dom.js';
import { formatBytes } from './format.js';

export interface StoragePanelCallbacks {
  readonly onUse: (name: string) => void;
  readonly onDelete: (name: string) => void;
}

export interface StoragePanel {
  readonly root: HTMLElement;
  show(models: readonly StoredModel[], estimate: { usageBytes: number; quotaBytes: number; persisted: boolean } | null): void;
}

/** What browser storage holds: each stored GGUF with its size and source, to load again or delete. */
export function createStoragePanel(callbacks: StoragePanelCallbacks): StoragePanel {
  const list = element('ul', { class: 'stored-models', 'data-testid': 'stored-models' });
  const summary = element('p', { class: 'muted', 'data-testid': 'storage-summary' });
  const root = section('Stored in this browser', 'storage-panel', list, summary);
  return {
    root,
    show(models, estimate) {
      list.replaceChildren(
        ...models.map((model) => {
          const use = element('button', { type: 'button' }, 'Load');
          use.addEventListener('click', () => callbacks.onUse(model.name));
          const remove = element('button', { type: 'button', class: 'danger' }, 'Delete');
          remove.addEventListener('click', () => callbacks.onDelete(model.name));
          return element(
            'li',
            { 'data-model-name': model.name },
            element('span', { class: 'name' }, model.name),
            element('span', { class: 'muted' }, ` ${formatBytes(model.sizeBytes)} · ${model.source} · ${model.storedAt.slice(0, 19).replace('T', ' ')}`),
            use,
            remove,
          );
        }),
      );
      if (models.length === 0) list.append(element('li', { class: 'muted' }, 'Nothing stored yet: a loaded model is kept here for the next visit.'));
      summary.textContent =
        estimate === null
          ? ''
          : `Origin storage: ${formatBytes(estimate.usageBytes)} used of ${formatBytes(estimate.quotaBytes)}${estimate.persisted ? ' (persistent)' : ''}.`;
    },
  };
}
