import type { ProviderChoice, WeightChoice } from '../app-options.js';
import type { KvMethodChoice } from '../kv-methods.js';
import { element, section } from './dom.js';

export interface Settings {
  readonly kvMethod: string;
  readonly provider: ProviderChoice;
  readonly weights: WeightChoice;
  readonly maxTokens: number;
  /** 0 = greedy. */
  readonly temperature: number;
}

export interface SettingsPanel {
  readonly root: HTMLElement;
  read(): Settings;
  /** The provider the loaded model really runs on, next to the choice. */
  showProviderUsed(provider: string | null): void;
}

/** KV method, execution provider and sampling. A method or provider change rebuilds the model on the next run. */
export function createSettingsPanel(methods: readonly KvMethodChoice[], initial: Settings): SettingsPanel {
  const method = element('select', { 'data-testid': 'kv-method', 'aria-label': 'KV method' });
  const known = methods.some((choice) => choice.value === initial.kvMethod);
  for (const choice of known ? methods : [...methods, { value: initial.kvMethod, label: initial.kvMethod }]) {
    method.append(element('option', { value: choice.value }, choice.label));
  }
  method.value = initial.kvMethod;

  const provider = element('select', { 'data-testid': 'provider', 'aria-label': 'Execution provider' });
  for (const [value, label] of [
    ['auto', 'auto (WebGPU, else WASM)'],
    ['webgpu', 'WebGPU'],
    ['wasm', 'WASM'],
  ] as const) {
    provider.append(element('option', { value }, label));
  }
  provider.value = initial.provider;
  const weights = element('select', { 'data-testid': 'weights', 'aria-label': 'Weight format' });
  for (const [value, label] of [
    ['nbits', '4-bit (MatMulNBits, as in the GGUF)'],
    ['fp32', 'fp32 (dequantized at load: 4× the memory)'],
  ] as const) {
    weights.append(element('option', { value }, label));
  }
  weights.value = initial.weights;
  const providerUsed = element('span', { class: 'muted', 'data-testid': 'provider-used' }, 'not loaded');

  const maxTokens = element('input', { type: 'number', min: '1', max: '4096', 'data-testid': 'max-tokens', 'aria-label': 'Max new tokens' });
  maxTokens.value = String(initial.maxTokens);
  const temperature = element('input', { type: 'number', min: '0', max: '2', step: '0.1', 'data-testid': 'temperature' });
  temperature.value = String(initial.temperature);

  const root = section(
    'Settings',
    'settings-panel',
    element('label', {}, 'KV method ', method),
    element('label', {}, 'Provider ', provider, ' used: ', providerUsed),
    element('label', {}, 'Weights ', weights),
    element('label', {}, 'Max new tokens ', maxTokens),
    element('label', {}, 'Temperature (0 = greedy) ', temperature),
  );
  return {
    root,
    read() {
      const tokens = Number.parseInt(maxTokens.value, 10);
      const heat = Number.parseFloat(temperature.value);
      return {
        kvMethod: method.value,
        provider: provider.value as ProviderChoice,
        weights: weights.value as WeightChoice,
        maxTokens: Number.isInteger(tokens) && tokens > 0 ? tokens : initial.maxTokens,
        temperature: Number.isFinite(heat) && heat >= 0 ? heat : 0,
      };
    },
    showProviderUsed(used) {
      providerUsed.textContent = used ?? 'not loaded';
      providerUsed.dataset['provider'] = used ?? '';
    },
  };
}
