/** One ablation of the paper (qaq-method.md §2–§5) as a method string of the `--method` contract. */
export interface AblationMethod {
  readonly method: string;
  readonly ablation: 'keys-only' | 'values-only' | 'baseline' | 'outliers-off' | 'window-1' | 'promotion-tier';
  readonly description: string;
}

/**
 * The ablations `qaq eval --ablations` runs, in order: keys-only and values-only uniform quantization at 1–4 bits
 * (the other side at fp16; paper Fig. 2a), then QAQ at the given preset with outliers off (α = 0), the attention
 * window n = 1 instead of 5, and the fp16 promotion tier on (tokens may regain bits).
 */
export function ablationMethods(preset = 'qaq'): AblationMethod[] {
  const methods: AblationMethod[] = [];
  for (const bits of [1, 2, 3, 4]) {
    methods.push({ method: `uniform:${bits},part=keys`, ablation: 'keys-only', description: `keys at ${bits} bits, values fp16` });
  }
  for (const bits of [1, 2, 3, 4]) {
    methods.push({ method: `uniform:${bits},part=values`, ablation: 'values-only', description: `values at ${bits} bits, keys fp16` });
  }
  const base = preset === 'qaq' ? 'qaq' : preset;
  const withSetting = (setting: string): string => (base.split(':').length >= 2 && base.split(':').at(-1)?.includes('=') ? `${base},${setting}` : `${base}:${setting}`);
  methods.push({ method: base, ablation: 'baseline', description: 'QAQ as configured' });
  methods.push({ method: withSetting('alpha=0'), ablation: 'outliers-off', description: 'no outliers kept (α = 0)' });
  methods.push({ method: withSetting('window=1'), ablation: 'window-1', description: 'attention predicted from the last step only (n = 1)' });
  methods.push({ method: withSetting('tier=1'), ablation: 'promotion-tier', description: 'fp16 promotion tier on (bits can rise again)' });
  return methods;
}
