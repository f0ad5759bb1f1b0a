import { describe, expect, it } from 'vitest';
import { baselineBar, evaluateBars, isQaqPreset, measurementSizeNote, presetBar } from './report-bars.js';
import { fixtureRecord } from './report-fixtures.test-utils.js';

describe('the bars', () => {
  it('counts only named QAQ presets', () => {
    expect(isQaqPreset('qaq')).toBe(true);
    expect(isQaqPreset('qaq:compact')).toBe(true);
    expect(isQaqPreset('qaq:sk=0.003,sv=0.01')).toBe(false);
    expect(isQaqPreset('uniform:4')).toBe(false);
  });

  it('passes the preset bar only when one preset meets bits, KL and top-1 together', () => {
    const good = fixtureRecord('qaq:compact', { bits_per_element: 3.1, kl_mean: 0.019, top1_agreement: 0.951 });
    expect(presetBar([good]).verdict).toBe('PASS');
    expect(presetBar([{ ...good, bits_per_element: 3.3 }]).verdict).toBe('FAIL');
    expect(presetBar([{ ...good, kl_mean: 0.021 }]).verdict).toBe('FAIL');
    expect(presetBar([{ ...good, top1_agreement: 0.94 }]).verdict).toBe('FAIL');
    // A hand-tuned point does not count for the preset bar.
    expect(presetBar([{ ...good, method: 'qaq:sk=0.01,sv=0.02' }]).verdict).toBe('NOT MEASURED');
    expect(presetBar([{ ...good, kl_mean: 0.05 }]).figures).toContain('kl_mean 0.0500');
  });

  it('passes a baseline bar when a preset has lower KL at equal or fewer bits', () => {
    const baseline = fixtureRecord('uniform:4', { bits_per_element: 4.875, kl_mean: 0.08 });
    expect(baselineBar([baseline, fixtureRecord('qaq', { bits_per_element: 4.875, kl_mean: 0.02 })], 'uniform:4').verdict).toBe('PASS');
    expect(baselineBar([baseline, fixtureRecord('qaq', { bits_per_element: 4.9, kl_mean: 0.02 })], 'uniform:4').verdict).toBe('FAIL');
    expect(baselineBar([baseline, fixtureRecord('qaq', { bits_per_element: 4, kl_mean: 0.08 })], 'uniform:4').verdict).toBe('FAIL');
    expect(baselineBar([fixtureRecord('qaq')], 'ort-int4').verdict).toBe('NOT MEASURED');
    expect(baselineBar([fixtureRecord('qaq')], 'ort-int4').figures).toBe("ort-int4 was not evaluated: it was not among this sweep's methods");
    expect(baselineBar([fixtureRecord('qaq')], 'ort-int4', ['ort-int4']).figures).toBe('ort-int4 was not evaluated: its run failed (see failures)');
    expect(evaluateBars([baseline]).map((bar) => bar.verdict)).toEqual(['NOT MEASURED', 'NOT MEASURED', 'NOT MEASURED', 'NOT MEASURED']);
  });

  it('says where the measured size differs from the bars', () => {
    expect(measurementSizeNote([fixtureRecord('qaq')])).toBe('');
    expect(measurementSizeNote([fixtureRecord('qaq', { tokens: 4096 })])).toContain('qaq was measured on 4096 tokens at context 2048');
  });
});
