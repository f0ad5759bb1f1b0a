import type { LiveReadout } from '../inference/generation-run.js';
import { element, section } from './dom.js';
import { formatBits, formatBytes, formatRate } from './format.js';

export interface LivePanel {
  readonly root: HTMLElement;
  show(readout: LiveReadout, kvMethod: string): void;
  reset(): void;
}

function readoutCell(label: string, testId: string): { cell: HTMLElement; value: HTMLElement; detail: HTMLElement } {
  const value = element('strong', { 'data-testid': testId }, '—');
  const detail = element('span', { class: 'muted' });
  return { cell: element('div', { class: 'readout' }, element('span', { class: 'label' }, label), value, detail), value, detail };
}

/**
 * KV bytes held (the method) beside what an fp16 cache would hold for the same tokens, bits per element, decode
 * tokens/s and the context. Raw numbers ride in data attributes (for tests and other tools) next to the text.
 */
export function createLivePanel(): LivePanel {
  const bytes = readoutCell('KV held', 'kv-bytes');
  const fp16 = readoutCell('fp16 cache would hold', 'kv-fp16-bytes');
  const bits = readoutCell('bits / element', 'bits-per-element');
  const speed = readoutCell('decode tokens/s', 'tokens-per-second');
  const context = readoutCell('context', 'context-length');
  const bar = element('div', { class: 'ratio-bar' });
  const fill = element('div', { class: 'ratio-fill', 'data-testid': 'kv-ratio-bar' });
  bar.append(fill);
  const root = section(
    'Live KV cache',
    'live-panel',
    element('div', { class: 'readouts' }, bytes.cell, fp16.cell, bits.cell, speed.cell, context.cell),
    bar,
  );
  return {
    root,
    show(readout, kvMethod) {
      const { memory } = readout;
      bytes.value.textContent = formatBytes(memory.bytes);
      bytes.detail.textContent = ` ${kvMethod}, +${formatBytes(memory.slackBytes)} slack`;
      fp16.value.textContent = formatBytes(memory.fp16Bytes);
      fp16.detail.textContent = memory.bytes > 0 ? ` ${(memory.fp16Bytes / memory.bytes).toFixed(2)}× more` : '';
      bits.value.textContent = formatBits(memory.bitsPerElement);
      bits.detail.textContent = ` over ${memory.elements.toLocaleString('en-US')} elements`;
      speed.value.textContent = formatRate(readout.decodeTokensPerSecond);
      speed.detail.textContent = ` ${readout.generatedTokens} generated on ${readout.provider}`;
      context.value.textContent = String(readout.contextTokens);
      context.detail.textContent = ` of ${readout.contextLimit} tokens`;
      fill.style.width = `${memory.fp16Bytes > 0 ? Math.min(100, (100 * memory.bytes) / memory.fp16Bytes) : 0}%`;
      root.dataset['memory'] = JSON.stringify(memory);
      root.dataset['tokensPerSecond'] = String(readout.decodeTokensPerSecond ?? '');
      root.dataset['contextTokens'] = String(readout.contextTokens);
      root.dataset['provider'] = readout.provider;
    },
    reset() {
      for (const cell of [bytes, fp16, bits, speed, context]) {
        cell.value.textContent = '—';
        cell.detail.textContent = '';
      }
      fill.style.width = '0%';
      delete root.dataset['memory'];
    },
  };
}
