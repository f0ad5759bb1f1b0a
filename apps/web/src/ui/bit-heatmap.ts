import type { BitWidthMatrix } from '../inference/bit-widths.js';
import { bitWidthColor } from './bit-colors.js';
import { element, section } from './dom.js';

/** Most columns drawn; longer contexts are binned (each column the mean over its tokens). */
const maxColumns = 1024;

export interface BitHeatmap {
  readonly root: HTMLElement;
  show(matrix: BitWidthMatrix | null, note: string): void;
}

/** Bit widths by layer (rows) and token position (columns) on two canvases, keys and values. */
export function createBitHeatmap(): BitHeatmap {
  const keys = element('canvas', { class: 'heatmap', 'data-testid': 'heatmap-keys', width: '1', height: '1' });
  const values = element('canvas', { class: 'heatmap', 'data-testid': 'heatmap-values', width: '1', height: '1' });
  const note = element('p', { class: 'muted', 'data-testid': 'heatmap-note' }, 'Generate to see the bit widths of the cache.');
  const legend = element('div', { class: 'legend' });
  for (const bits of [1, 2, 3, 4, 5, 6, 8, 16]) {
    const [red, green, blue] = bitWidthColor(bits);
    legend.append(element('span', { class: 'swatch', style: `background: rgb(${red} ${green} ${blue})` }), `${bits === 16 ? 'fp16' : bits} `);
  }
  const root = section(
    'Bit widths (rows: layers, columns: token positions)',
    'heatmap-panel',
    element('div', { class: 'heatmap-label' }, 'keys'),
    keys,
    element('div', { class: 'heatmap-label' }, 'values'),
    values,
    legend,
    note,
  );
  return {
    root,
    show(matrix, text) {
      note.textContent = text;
      if (matrix === null || matrix.tokenCount === 0) {
        for (const canvas of [keys, values]) canvas.getContext('2d')?.clearRect(0, 0, canvas.width, canvas.height);
        return;
      }
      draw(keys, matrix.keys, matrix.layerCount, matrix.tokenCount);
      draw(values, matrix.values, matrix.layerCount, matrix.tokenCount);
      root.dataset['tokens'] = String(matrix.tokenCount);
      root.dataset['layers'] = String(matrix.layerCount);
    },
  };
}

function draw(canvas: HTMLCanvasElement, cells: Float32Array, rows: number, tokens: number): void {
  const columns = Math.min(tokens, maxColumns);
  canvas.width = columns;
  canvas.height = rows;
  const context = canvas.getContext('2d');
  if (context === null) return;
  const image = context.createImageData(columns, rows);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const first = Math.floor((column * tokens) / columns);
      const end = Math.max(first + 1, Math.floor(((column + 1) * tokens) / columns));
      let sum = 0;
      let count = 0;
      for (let token = first; token < end; token++) {
        const bits = cells[row * tokens + token] as number;
        if (bits > 0) {
          sum += bits;
          count++;
        }
      }
      const [red, green, blue] = bitWidthColor(count === 0 ? 0 : sum / count);
      const offset = 4 * (row * columns + column);
      image.data[offset] = red;
      image.data[offset + 1] = green;
      image.data[offset + 2] = blue;
      image.data[offset + 3] = 255;
    }
  }
  context.putImageData(image, 0, 0);
}
