import { parseKvMethod, qaqPresetSettings } from '@qaq/runtime';
import { describe, expect, it } from 'vitest';
import { ablationMethods } from './ablation-methods.js';

describe('ablationMethods', () => {
  it('lists keys-only and values-only at 1–4 bits and the three QAQ ablations, every one a valid method', () => {
    const list = ablationMethods();
    expect(list.map((entry) => entry.method)).toEqual([
      'uniform:1,part=keys',
      'uniform:2,part=keys',
      'uniform:3,part=keys',
      'uniform:4,part=keys',
      'uniform:1,part=values',
      'uniform:2,part=values',
      'uniform:3,part=values',
      'uniform:4,part=values',
      'qaq',
      'qaq:alpha=0',
      'qaq:window=1',
      'qaq:tier=1',
    ]);
    const quality = qaqPresetSettings('quality');
    const settings = list.slice(8).map((entry) => {
      const method = parseKvMethod(entry.method);
      if (method.kind !== 'qaq') throw new Error(entry.method);
      return method.settings;
    });
    expect(settings[0]).toEqual(quality);
    expect(settings[1]).toEqual({ ...quality, outlierFraction: 0 });
    expect(settings[2]).toEqual({ ...quality, window: 1 });
    expect(settings[3]).toEqual({ ...quality, promotionTier: true });
    expect(parseKvMethod('uniform:3,part=values')).toEqual({ kind: 'uniform', bits: 3, outlierFraction: 0, part: 'values' });
  });

  it('ablates a named preset or a custom QAQ setting', () => {
    expect(ablationMethods('qaq:compact').slice(9).map((entry) => entry.method)).toEqual(['qaq:compact:alpha=0', 'qaq:compact:window=1', 'qaq:compact:tier=1']);
    expect(ablationMethods('qaq:sk=0.003,sv=0.05').slice(9).map((entry) => entry.method)).toEqual([
      'qaq:sk=0.003,sv=0.05,alpha=0',
      'qaq:sk=0.003,sv=0.05,window=1',
      'qaq:sk=0.003,sv=0.05,tier=1',
    ]);
    for (const entry of ablationMethods('qaq:compact:sk=0.004')) expect(() => parseKvMethod(entry.method)).not.toThrow();
  });
});
