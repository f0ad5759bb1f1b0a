import { QaqError } from '@qaq/errors';
import { policyPreset } from '@qaq/policy';
import { describe, expect, it } from 'vitest';
import { formatKvMethod, parseKvMethod, qaqPresetSettings, usesAttentionKernel, validateQaqSettings } from './kv-method.js';

function errorOf(text: string): QaqError {
  try {
    parseKvMethod(text);
  } catch (error) {
    if (error instanceof QaqError) return error;
    throw error;
  }
  throw new Error(`${text} was accepted`);
}

describe('parseKvMethod', () => {
  it('reads the fixed methods and baselines', () => {
    expect(parseKvMethod('fp32')).toEqual({ kind: 'fp32' });
    expect(parseKvMethod('fp16')).toEqual({ kind: 'fp16' });
    expect(parseKvMethod('uniform:4')).toEqual({ kind: 'uniform', bits: 4, outlierFraction: 0 });
    expect(parseKvMethod('uniform:2,alpha=0.02')).toEqual({ kind: 'uniform', bits: 2, outlierFraction: 0.02 });
    expect(parseKvMethod('kivi:2')).toEqual({ kind: 'kivi', bits: 2 });
    expect(parseKvMethod('uniform:2,part=keys')).toEqual({ kind: 'uniform', bits: 2, outlierFraction: 0, part: 'keys' });
    expect(parseKvMethod('uniform:3,part=values,alpha=0.02')).toEqual({ kind: 'uniform', bits: 3, outlierFraction: 0.02, part: 'values' });
    expect(parseKvMethod('uniform:4,part=both')).toEqual({ kind: 'uniform', bits: 4, outlierFraction: 0 });
    expect(parseKvMethod('ort-int4')).toEqual({ kind: 'ort', bits: 4 });
    expect(parseKvMethod('ort-int8')).toEqual({ kind: 'ort', bits: 8 });
    expect(parseKvMethod('uniform:3,rotate=both,center=keys')).toEqual({ kind: 'uniform', bits: 3, outlierFraction: 0, rotation: 'both', centering: 'keys' });
  });

  it('reads rotation and centering settings of qaq methods', () => {
    const centered = parseKvMethod('qaq:compact:center=both');
    expect(centered.kind === 'qaq' && centered.settings).toEqual({ ...qaqPresetSettings('compact'), centering: 'both' });
    const floored = parseKvMethod('qaq:quality:kbmin=3');
    expect(floored.kind === 'qaq' && floored.settings).toEqual({ ...qaqPresetSettings('quality'), keyMinBits: 3 });
    // compact floors keys at 3; its floor follows overridden bounds unless kbmin is given.
    expect(qaqPresetSettings('compact').keyMinBits).toBe(3);
    const raised = parseKvMethod('qaq:compact:bmin=4');
    expect(raised.kind === 'qaq' && [raised.settings.minBits, raised.settings.keyMinBits]).toEqual([4, undefined]);
    const capped = parseKvMethod('qaq:compact:bmax=2');
    expect(capped.kind === 'qaq' && [capped.settings.maxBits, capped.settings.keyMinBits]).toEqual([2, undefined]);
    const attention = parseKvMethod('qaq:compact:kbound=attention');
    expect(attention.kind === 'qaq' && attention.settings).toEqual({ ...qaqPresetSettings('compact'), keyBound: 'attention' });
    const entry = parseKvMethod('qaq:watchful:kbnew=6,vbnew=4');
    expect(entry.kind === 'qaq' && entry.settings).toEqual({ ...qaqPresetSettings('watchful'), keyEntryBits: 6, valueEntryBits: 4 });
    const someLayers = parseKvMethod('qaq:watchful:layers=5+11+17');
    expect(someLayers.kind === 'qaq' && someLayers.settings.plannedLayers).toEqual([5, 11, 17]);
    const full = parseKvMethod('qaq:watchful:fullsk=0.0006,fullwindow=64,fullplan=64');
    expect(full.kind === 'qaq' && full.settings.fullContext).toEqual({ sigmaScoreMax: 0.0006, window: 64, planInterval: 64 });
    const kindBudgets = parseKvMethod('qaq:watchful:slidingsv=0.08,slidingkbmin=3,slidingvbmin=2,fullsv=0.02,fullkbmin=4,fullvbmin=3');
    expect(kindBudgets.kind === 'qaq' && [kindBudgets.settings.sliding, kindBudgets.settings.fullContext]).toEqual([
      { window: 16, planInterval: 16, sigmaOutputMax: 0.08, keyMinBits: 3, valueMinBits: 2 },
      { window: 64, planInterval: 64, sigmaOutputMax: 0.02, keyMinBits: 4, valueMinBits: 3 },
    ]);
    const valueFloor = parseKvMethod('qaq:compact:vbmin=3');
    expect(valueFloor.kind === 'qaq' && valueFloor.settings).toEqual({ ...qaqPresetSettings('compact'), valueMinBits: 3 });
    // Settings built in code are checked with the same message.
    expect(() => validateQaqSettings({ ...qaqPresetSettings('compact'), keyBound: 'blind' as never })).toThrow(/kbound must be uniform, attention or attention-shared/);
    const uniform = parseKvMethod('qaq:compact:kbound=uniform');
    expect(uniform.kind === 'qaq' && uniform.settings.keyBound).toBeUndefined();
    const plain = parseKvMethod('qaq:quality:rotate=keys');
    expect(plain.kind === 'qaq' && [plain.settings.rotation, plain.settings.centering]).toEqual(['keys', 'none']);
  });

  it('reads qaq as the quality preset, named presets, and overrides', () => {
    const quality = policyPreset('quality');
    const plain = parseKvMethod('qaq');
    expect(plain).toEqual({ kind: 'qaq', preset: 'quality', settings: qaqPresetSettings('quality') });
    expect(plain.kind === 'qaq' && plain.settings.sigmaScoreMax).toBe(quality.sigmaScoreMax);
    expect(parseKvMethod('qaq:compact')).toEqual({ kind: 'qaq', preset: 'compact', settings: qaqPresetSettings('compact') });
    // balanced is compact with the keys floored at 4 bits (rotated, no outliers, values to B_min 2).
    const balanced = parseKvMethod('qaq:balanced');
    expect(balanced).toEqual({ kind: 'qaq', preset: 'balanced', settings: { ...qaqPresetSettings('compact'), keyMinBits: 4 } });
    // lean: attentive with values down to 2 bits, σ_S,max 0.0004, an attention window of 10, a plan every 32 steps,
    // decode steps skipping tokens below 10⁻⁵ in the value pass, fast scores, and query-aware key scales.
    const lean = parseKvMethod('qaq:lean');
    const spelledOut = parseKvMethod('qaq:attentive:vbmin=2,sk=0.0004,window=10,plan=32,skip=1e-5,kscale=1,fastscores=1');
    if (lean.kind !== 'qaq' || spelledOut.kind !== 'qaq') throw new Error('expected qaq methods');
    // An explicit vbmin equal to B_min is kept as given; the preset leaves it to B_min (the same floor).
    const { valueMinBits, ...floorFromMinimum } = spelledOut.settings;
    expect(valueMinBits).toBe(2);
    expect(lean.settings).toEqual(floorFromMinimum);
    expect(formatKvMethod(lean)).toBe('qaq:lean');
    expect(formatKvMethod(balanced)).toBe('qaq:balanced');
    // watchful: lean watching attention over every step between plans (window 32), keys loosened to σ_S,max 0.0014,
    // and exact attention (no skipped tokens, exact scores and values); in a mixed model, 64 steps in the
    // full-context layers, 16 in the sliding.
    const watchful = parseKvMethod('qaq:watchful');
    const { negligibleProbability, fastScores, ...exactLean } = lean.settings;
    expect(negligibleProbability).toBe(1e-5);
    expect(fastScores).toBe(true);
    const layerKinds = { fullContext: { window: 64, planInterval: 64 }, sliding: { window: 16, planInterval: 16 } };
    expect(watchful).toEqual({ ...lean, preset: 'watchful', settings: { ...exactLean, sigmaScoreMax: 0.0014, window: 32, ...layerKinds, staggeredPlans: true } });
    // stagger=0 puts every layer on the same plan steps again.
    const together = parseKvMethod('qaq:watchful:stagger=0');
    expect(together.kind === 'qaq' && together.settings.staggeredPlans).toBeUndefined();
    const exactScores = parseKvMethod('qaq:lean:fastscores=0');
    expect(exactScores.kind === 'qaq' && exactScores.settings.fastScores).toBeUndefined();
    expect(() => parseKvMethod('qaq:lean:fastscores=2')).toThrow(/fastscores must be 0 or 1/);
    const integerValues = parseKvMethod('qaq:lean:fastvalues=1');
    expect(integerValues.kind === 'qaq' && integerValues.settings.fastValues).toBe(true);
    expect(formatKvMethod(integerValues)).toMatch(/,fastscores=1,fastvalues=1$/);
    expect(() => parseKvMethod('qaq:lean:fastvalues=yes')).toThrow(/fastvalues must be 0 or 1/);
    // Overrides of one kind's field keep the preset's others.
    const looser = parseKvMethod('qaq:watchful:slidingsk=0.002');
    expect(looser.kind === 'qaq' && looser.settings.sliding).toEqual({ window: 16, planInterval: 16, sigmaScoreMax: 0.002 });
    expect(formatKvMethod(watchful)).toBe('qaq:watchful');
    // attentive: keys by their predicted attention down to 2 bits, values floored at 3.
    const attentive = parseKvMethod('qaq:attentive');
    expect(attentive).toEqual({
      kind: 'qaq',
      preset: 'attentive',
      settings: { ...qaqPresetSettings('compact'), sigmaScoreMax: 0.0003, keyMinBits: undefined, valueMinBits: 3, keyBound: 'attention' },
    });
    expect(formatKvMethod(attentive)).toBe('qaq:attentive');
    const custom = parseKvMethod('qaq:sk=0.003,sv=0.01,bmin=1,bmax=6,alpha=0.05,window=3,recent=16,layout=token-layer,tier=1,plan=4');
    expect(custom).toEqual({
      kind: 'qaq',
      preset: 'custom',
      settings: {
        sigmaScoreMax: 0.003,
        sigmaOutputMax: 0.01,
        minBits: 1,
        maxBits: 6,
        outlierFraction: 0.05,
        window: 3,
        groupLayout: 'token-layer',
        recentWindow: 16,
        promotionTier: true,
        planInterval: 4,
        rotation: 'none',
        centering: 'none',
        scoreBudgetReferenceTokens: quality.scoreBudgetReferenceTokens,
        sinkTokens: quality.sinkTokens,
      },
    });
    expect(quality.sinkTokens).toBe(4);
    const clipped = parseKvMethod('qaq:attentive:clip=2');
    expect(clipped.kind === 'qaq' && clipped.settings.clippedRangeMaxBits).toBe(2);
    expect(formatKvMethod(clipped)).toMatch(/,clip=2$/);
    const recentAtEight = parseKvMethod('qaq:attentive:recent=32,recentbits=8');
    expect(recentAtEight.kind === 'qaq' && [recentAtEight.settings.recentWindow, recentAtEight.settings.recentWindowBits]).toEqual([32, 8]);
    expect(formatKvMethod(recentAtEight)).toContain(',recent=32,recentbits=8,');
    const recentAtSixteen = parseKvMethod('qaq:attentive:recent=32,recentbits=16');
    expect(recentAtSixteen.kind === 'qaq' && recentAtSixteen.settings.recentWindowBits).toBeUndefined();
    const skipping = parseKvMethod('qaq:lean:skip=1e-5');
    expect(skipping.kind === 'qaq' && skipping.settings.negligibleProbability).toBe(1e-5);
    expect(formatKvMethod(skipping)).toMatch(/,skip=0\.00001,kscale=1,fastscores=1$/);
    const exact = parseKvMethod('qaq:lean:skip=0');
    expect(exact.kind === 'qaq' && exact.settings.negligibleProbability).toBeUndefined();
    const keyScaled = parseKvMethod('qaq:attentive:kscale=1,vscale=1');
    expect(keyScaled.kind === 'qaq' && [keyScaled.settings.queryAwareKeyScaling, keyScaled.settings.equalizingValueScaling]).toEqual([true, true]);
    expect(formatKvMethod(keyScaled)).toMatch(/,kscale=1,vscale=1$/);
    const { queryAwareKeyScaling, ...unscaledWatchful } = qaqPresetSettings('watchful');
    expect(queryAwareKeyScaling).toBe(true);
    const unscaled = parseKvMethod('qaq:watchful:kscale=0');
    expect(unscaled.kind === 'qaq' && unscaled.settings).toEqual(unscaledWatchful);
    const unclipped = parseKvMethod('qaq:attentive:clip=0');
    expect(unclipped.kind === 'qaq' && unclipped.settings.clippedRangeMaxBits).toBeUndefined();
    const noSinks = parseKvMethod('qaq:compact:sink=0');
    expect(noSinks.kind === 'qaq' && noSinks.settings.sinkTokens).toBe(0);
    const fromCompact = parseKvMethod('qaq:compact:sv=0.2');
    expect(fromCompact.kind === 'qaq' && fromCompact.settings).toEqual({ ...qaqPresetSettings('compact'), sigmaOutputMax: 0.2 });
  });

  it('says which methods attend through a compact-cache kernel', () => {
    const attending = ['fp16', 'uniform:4', 'qaq', 'qaq:compact:kbmin=4'].map((text) => usesAttentionKernel(parseKvMethod(text)));
    const notAttending = ['fp32', 'kivi:2', 'ort-int4', 'ort-int8'].map((text) => usesAttentionKernel(parseKvMethod(text)));
    expect(attending).toEqual([true, true, true, true]);
    expect(notAttending).toEqual([false, false, false, false]);
  });

  it('round-trips through formatKvMethod', () => {
    for (const text of ['fp32', 'fp16', 'uniform:3', 'uniform:4,alpha=0.01', 'uniform:1,part=keys', 'uniform:2,alpha=0.02,part=values', 'kivi:4', 'ort-int8', 'qaq:quality', 'qaq:compact', 'qaq:sk=0.1,sv=0.2,recent=8', 'uniform:2,rotate=both,center=both', 'qaq:compact:center=keys', 'qaq:quality:rotate=values,center=values', 'qaq:compact:kbmin=3,sk=0.006', 'qaq:compact:sink=4', 'qaq:sink=1,skref=0', 'qaq:compact:kbound=attention,sk=0.0003', 'qaq:compact:kbmin=2,vbmin=3,kbound=attention', 'qaq:attentive:clip=2', 'qaq:attentive:clip=3,vbmin=2', 'qaq:attentive:recent=32,recentbits=8', 'qaq:lean:skip=1e-6', 'qaq:attentive:clip=2,skip=0.0001', 'qaq:lean:kscale=1', 'qaq:watchful:sk=0.002,kscale=1', 'qaq:lean:vscale=1', 'qaq:watchful:kscale=1,vscale=1', 'qaq:watchful:kbnew=5,vbnew=4', 'qaq:lean:vbnew=3', 'qaq:watchful:kbound=attention-shared,sk=0.03', 'qaq:watchful:layers=0+3', 'qaq:watchful:fullwindow=64', 'qaq:lean:fullsk=0.0002,fullplan=8', 'qaq:watchful:slidingwindow=16,slidingplan=16,slidingsk=0.002', 'qaq:lean:slidingsv=0.1,slidingkbmin=3,fullvbmin=4,fullsv=0.01', 'qaq:lean:stagger=1', 'qaq:watchful:stagger=0', 'qaq:lean:fastscores=1', 'qaq:watchful:fastscores=0', 'qaq:lean:fastvalues=1', 'qaq:watchful:fastscores=1,fastvalues=1']) {
      const method = parseKvMethod(text);
      expect(parseKvMethod(formatKvMethod(method))).toEqual(method);
    }
  });

  it('rejects malformed methods with invalid-kv-method and the offending value', () => {
    const cases: [string, string][] = [
      ['zip9', 'unknown KV method'],
      ['uniform', 'uniform takes one argument'],
      ['uniform:0', 'bit width 1..8'],
      ['uniform:9', 'bit width 1..8'],
      ['uniform:2.5', 'bit width'],
      ['kivi:x', 'bit width'],
      ['uniform:4,beta=1', 'unknown uniform option'],
      ['uniform:4,part=heads', 'part must be keys, values or both'],
      ['uniform:4,part=keys,part=values', 'given twice'],
      ['uniform:4,center=channels', 'center must be none, keys, values or both'],
      ['qaq:center=yes', 'center must be none, keys, values or both'],
      ['qaq:bmin=3,kbmin=2', 'kbmin must be a bit width in bmin..bmax'],
      ['qaq:bmax=4,kbmin=5', 'kbmin must be a bit width in bmin..bmax'],
      ['qaq:bmin=3,vbmin=2', 'vbmin must be a bit width in bmin..bmax'],
      ['qaq:bmax=6,kbnew=8', 'kbnew must be a bit width in bmin..bmax'],
      ['qaq:bmin=3,vbnew=2', 'vbnew must be a bit width in bmin..bmax'],
      ['qaq:kbnew=4.5', 'kbnew must be a bit width in bmin..bmax'],
      ['qaq:layers=1+1', 'layers must be distinct layer indices'],
      ['qaq:fullsk=0', 'fullsk must be > 0'],
      ['qaq:fullwindow=300', 'fullwindow must be an integer in 1..255'],
      ['qaq:fullplan=0.5', 'fullplan must be a positive integer'],
      ['qaq:slidingwindow=0', 'slidingwindow must be an integer in 1..255'],
      ['qaq:slidingsv=-1', 'slidingsv must be > 0'],
      ['qaq:stagger=2', 'stagger must be 0 or 1'],
      ['qaq:bmin=3,slidingkbmin=2', 'slidingkbmin must be a bit width in bmin..bmax'],
      ['qaq:fullvbmin=2.5', 'fullvbmin must be a bit width in bmin..bmax'],
      ['qaq:layers=0-4', 'layers must be distinct layer indices'],
      ['qaq:layers=', 'layers must be distinct layer indices'],
      ['qaq:kbound=blind', 'kbound must be uniform, attention or attention-shared'],
      ['qaq:fast', 'unknown qaq preset'],
      ['qaq:sk=0', 'sk and sv must be > 0'],
      ['qaq:sk=abc', 'sk must be a number'],
      ['qaq:bmin=5,bmax=3', 'bmin and bmax'],
      ['qaq:bmax=12', 'bmin and bmax'],
      ['qaq:alpha=0.7', 'alpha'],
      ['qaq:window=0', 'window'],
      ['qaq:recent=-1', 'recent'],
      ['qaq:layout=channel', 'layout'],
      ['qaq:tier=yes', 'tier'],
      ['qaq:plan=0', 'plan must be a positive integer'],
      ['qaq:sink=-1', 'sink must be a non-negative integer'],
      ['qaq:clip=9', 'clip must be a bit width 0..8'],
      ['qaq:recent=4,recentbits=12', 'recentbits must be a bit width 1..8 or 16'],
      ['qaq:clip=1.5', 'clip must be a bit width 0..8'],
      ['qaq:skip=0.01', 'skip must be a probability in [0, 0.001]'],
      ['qaq:skip=-1e-6', 'skip must be a probability in [0, 0.001]'],
      ['qaq:kscale=2', 'kscale must be 0 or 1'],
      ['qaq:vscale=yes', 'vscale must be 0 or 1'],
      ['qaq:sink=2.5', 'sink must be a non-negative integer'],
      ['qaq:plan=1.5', 'plan must be a positive integer'],
      ['qaq:zz=1', 'unknown qaq setting'],
      ['qaq:sk=1,sk=2', 'given twice'],
      ['qaq:sk', 'unknown qaq preset'],
      ['qaq:a:b:c', 'too many'],
    ];
    for (const [text, message] of cases) {
      const error = errorOf(text);
      expect(error.code, text).toBe('invalid-kv-method');
      expect(error.message, text).toContain(message);
    }
  });
});
