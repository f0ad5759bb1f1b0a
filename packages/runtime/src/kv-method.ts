import { QaqError } from '@qaq/errors';
import { keyBounds, policyPreset, policyPresetNames, type GroupLayout, type KeyBound, type PolicyPresetName } from '@qaq/policy';
import { keyValueCenterings, type KeyValueCentering } from './key-value-centering.js';

/** The QAQ knobs of one run (qaq-method.md §2–§5). */
export interface QaqSettings {
  /** σ_S,max: allowed std of the attention-score error (keys). */
  readonly sigmaScoreMax: number;
  /** σ_X,max: allowed std of the attention-output error (values). */
  readonly sigmaOutputMax: number;
  readonly minBits: number;
  readonly maxBits: number;
  /** The keys' own floor (`kbmin=`), B_min..B_max; absent: B_min (PolicyConfig.keyMinBits). */
  readonly keyMinBits?: number;
  /** The values' own floor (`vbmin=`), B_min..B_max; absent: B_min (PolicyConfig.valueMinBits). */
  readonly valueMinBits?: number;
  /**
   * Bits a new key enters the cache at (`kbnew=`), B_min..B_max; absent: B_max. A token waits at this width until a
   * plan has watched its attention for a full window; demotions from it are exact (nested grids), but a plan that
   * wants more bits finds it at this width (no promotion without the tier).
   */
  readonly keyEntryBits?: number;
  /** Bits a new value enters the cache at (`vbnew=`), B_min..B_max; absent: B_max (see keyEntryBits). */
  readonly valueEntryBits?: number;
  /**
   * The layers the policy plans (`layers=0+5+11`, an ablation): the others keep every token at its entry width
   * (B_max unless kbnew= / vbnew=), so a run measures the error those layers alone add. Absent: every layer.
   */
  readonly plannedLayers?: readonly number[];
  /**
   * σ_S,max, σ_X,max, floors, attention window n and plan interval of the layers that see the whole context, in a
   * model that also has sliding-window layers (`fullsk=`, `fullsv=`, `fullkbmin=`, `fullvbmin=`, `fullwindow=`,
   * `fullplan=`; Gemma 3's layers 5, 11, 17): a few layers that hold
   * every token and retrieve from far back, where a token demoted during a dip of its attention is read at low bits
   * when it is wanted again. Absent: the settings above. Ignored in a model whose layers all see the whole context.
   */
  readonly fullContext?: LayerKindSettings;
  /**
   * The same for the sliding-window layers (`slidingsk=`, `slidingsv=`, … `slidingplan=`): tokens leave them after
   * the window (512 on Gemma 3), so a token waiting for its first plan at B_max is a larger share of what they hold.
   * Absent: the settings above. A model without sliding layers has nothing to apply them to.
   */
  readonly sliding?: LayerKindSettings;
  /**
   * The keys' bound (`kbound=`, PolicyConfig.keyBound): 'uniform' (the paper's, every token at attention 1/T) or
   * 'attention' (each token at its predicted attention S_t). Absent: 'uniform'.
   */
  readonly keyBound?: KeyBound;
  /** α: outlier fraction per group (both sides together). */
  readonly outlierFraction: number;
  /** n: attention is predicted as the maximum over the last n steps. */
  readonly window: number;
  readonly groupLayout: GroupLayout;
  /** R: the newest R tokens of each layer stay at fp16 before their first quantization (0: appended at B_max). */
  readonly recentWindow: number;
  /**
   * Bits the recent window holds its tokens at (`recentbits=`, KvCacheConfig.recentWindowBits): absent, fp16; 8
   * keeps the newest R tokens at 8 bits, out of the plans, and demotes them on the nested grid as they leave.
   */
  readonly recentWindowBits?: number;
  /** Keep an fp16 copy of every token so groups can be promoted again (its bytes are reported). */
  readonly promotionTier: boolean;
  /**
   * Decide and apply the plan every k-th decode step per layer (1 = every step, the method as specified; prefill
   * chunks always plan). Attention is observed every step either way; larger k trades a few steps at B_max for
   * less O(T) planning work per token.
   */
  readonly planInterval: number;
  /**
   * Which side the cache stores rotated per head by a fixed randomized Hadamard matrix (HadamardRotation), so
   * channel outliers spread out before quantization: 'values' (the output is rotated back), 'keys' (the query is
   * rotated too), 'both' or 'none'. Dot products and the error budgets are unchanged.
   */
  readonly rotation: KeyValueRotation;
  /**
   * Which side the cache stores centered per layer and KV head (KeyValueCenteringState): keys (the softmax ignores
   * the constant score shift), values (the mean is added back to the output), both or none. Exact; after `rotation`.
   */
  readonly centering: KeyValueCentering;
  /**
   * T_ref (0: off, the paper's absolute σ_S,max): beyond T_ref cached tokens σ_S,max shrinks as T_ref / T, so
   * keys keep the precision they had at T_ref as the context grows (PolicyConfig.scoreBudgetReferenceTokens).
   */
  readonly scoreBudgetReferenceTokens: number;
  /**
   * Attention sinks (`sink=`): the first N positions of each layer stay at fp16 and are never demoted
   * (PolicyConfig.sinkTokens). Absent or 0: none. Every preset keeps 4.
   */
  readonly sinkTokens?: number;
  /**
   * Groups at ≤ this many bits get a least-squares clipped range instead of min–max (`clip=`,
   * KvCacheConfig.clippedRangeMaxBits). Absent or 0: min–max, as the paper.
   */
  readonly clippedRangeMaxBits?: number;
  /**
   * τ (`skip=`, AttentionOptions.negligibleProbability): a decode step's value pass leaves out the tokens every query
   * head of their KV head gives a probability below τ (the output misses at most τ·max|v| per skipped token).
   * Absent or 0: every token (exact attention over the cache).
   */
  readonly negligibleProbability?: number;
  /**
   * Query-aware key scaling (`kscale=1`, ChannelScaling): keys stored as s ⊙ k and queries read as q / s per
   * layer, KV head and channel, with s calibrated online from the first tokens so key error lands where queries do
   * not look. Exact in attention. Absent or false: off.
   */
  readonly queryAwareKeyScaling?: boolean;
  /**
   * Equalizing value scaling (`vscale=1`, ChannelScaling): values stored as s ⊙ v with s_c² = 1 / √E[v_c²] per
   * layer, KV head and channel (calibrated online), the attention output divided by s, so a few large channels no
   * longer set every channel's step. Exact in attention. Absent or false: off.
   */
  readonly equalizingValueScaling?: boolean;
  /**
   * Staggered plans (`stagger=1`, PolicyConfig.staggeredPlans): layer l plans ⌊l·k / layers⌋ steps off the common
   * cadence k, so the layers' newest tokens do not all wait at their entry width on the same step: the cache's size
   * at any step is near the average over the cadence instead of its peak, and the planning work is spread over the
   * steps. Absent or false: every layer plans on the same steps.
   */
  readonly staggeredPlans?: boolean;
  /**
   * Fast scores (`fastscores=1`, AttentionOptions.fastScores): the attention kernel scores quantized keys against each
   * query element rounded to 16 bits of its row's largest magnitude — one integer product per element instead of two.
   * A score moves by at most scoreScale · step · Σ codes · max|q| / 32766: per element ≤ max|q|·step/128 at 8 bits,
   * against the key's own rounding of up to max|q|·step/2. Absent or false: exact scores.
   */
  readonly fastScores?: boolean;
  /**
   * Fast values (`fastvalues=1`, AttentionOptions.fastValues): the attention kernel sums a decode step's values in
   * integers, each weight p·step rounded to 16 bits of the largest in its block of 64 tokens, so an output element
   * moves by at most Σ_t (W_block / 65534)·codes_t. The minima's share and fp16 tokens stay exact. Absent or false:
   * exact.
   */
  readonly fastValues?: boolean;
}

/** QaqSettings.fullContext / sliding: what one kind of layer uses instead of the common settings. */
export interface LayerKindSettings {
  readonly sigmaScoreMax?: number;
  /** σ_X,max of this kind of layer (`fullsv=` / `slidingsv=`). */
  readonly sigmaOutputMax?: number;
  /** The keys' floor of this kind of layer (`fullkbmin=` / `slidingkbmin=`), B_min..B_max. */
  readonly keyMinBits?: number;
  /** The values' floor of this kind of layer (`fullvbmin=` / `slidingvbmin=`), B_min..B_max. */
  readonly valueMinBits?: number;
  readonly window?: number;
  readonly planInterval?: number;
}

/** The 0/1 settings and the QaqSettings field each sets. */
const switchFields = { kscale: 'queryAwareKeyScaling', vscale: 'equalizingValueScaling', stagger: 'staggeredPlans', fastscores: 'fastScores', fastvalues: 'fastValues' } as const;

/** The `full…=` / `sliding…=` setting suffixes and the LayerKindSettings field each sets. */
const layerKindFields = { sk: 'sigmaScoreMax', sv: 'sigmaOutputMax', kbmin: 'keyMinBits', vbmin: 'valueMinBits', window: 'window', plan: 'planInterval' } as const;

/** `fullsk=…,fullwindow=…,` for the fields a kind of layer sets (empty when none). */
function formatLayerKind(prefix: 'full' | 'sliding', kind: LayerKindSettings | undefined): string {
  if (kind === undefined) return '';
  return Object.entries(layerKindFields)
    .map(([suffix, field]) => (kind[field] === undefined ? '' : `${prefix}${suffix}=${kind[field]},`))
    .join('');
}

/** Which side the compact cache stores Hadamard-rotated (see QaqSettings.rotation). */
export type KeyValueRotation = 'none' | 'keys' | 'values' | 'both';

export const keyValueRotations: readonly KeyValueRotation[] = Object.freeze(['none', 'keys', 'values', 'both']);

/** Which of keys and values a fixed-width method quantizes. */
export type KvPart = 'both' | 'keys' | 'values';

/** A KV-cache method of the `--kv` contract. */
export type KvMethod =
  | { readonly kind: 'fp32' }
  | { readonly kind: 'fp16' }
  | {
      readonly kind: 'uniform';
      readonly bits: number;
      readonly outlierFraction: number;
      /**
       * Which side is quantized (the keys-only / values-only ablation, qaq-method.md §2): the other side stays at
       * fp16. Absent means both.
       */
      readonly part?: KvPart;
      /** Rotation before quantization (absent: 'none'). */
      readonly rotation?: KeyValueRotation;
      /** Centering before quantization, after any rotation (absent: 'none'). */
      readonly centering?: KeyValueCentering;
    }
  | { readonly kind: 'kivi'; readonly bits: number }
  | { readonly kind: 'ort'; readonly bits: 4 | 8 }
  | { readonly kind: 'qaq'; readonly preset: PolicyPresetName | 'custom'; readonly settings: QaqSettings };

/**
 * Whether a method attends over the compact cache through an attention kernel (CompactCacheAttention: fp16,
 * uniform, qaq), so a kernel passed to loadLanguageModel is used — and disposed with the model. fp32 and the ort
 * methods attend in their ONNX graph; kivi in the float64 reference.
 */
export function usesAttentionKernel(method: KvMethod): boolean {
  return method.kind === 'qaq' || method.kind === 'uniform' || method.kind === 'fp16';
}

/** The preset `qaq` means without a name. */
export const defaultQaqPreset: PolicyPresetName = 'quality';

export const kvMethodSyntax =
  'fp32 | fp16 | uniform:<B>[,alpha=<α>][,part=<keys|values>][,rotate=<none|keys|values|both>][,center=<none|keys|values|both>] | kivi:<B> | ort-int4 | ort-int8 | qaq | qaq:<preset> | ' +
  'qaq[:<preset>]:sk=<σS>,sv=<σX>,bmin=<B>,bmax=<B>,kbmin=<B>,vbmin=<B>,kbnew=<B>,vbnew=<B>,layers=<i+j+…>,fullsk=<σS>,fullsv=<σX>,fullkbmin=<B>,fullvbmin=<B>,fullwindow=<n>,fullplan=<k>,slidingsk=<σS>,slidingsv=<σX>,slidingkbmin=<B>,slidingvbmin=<B>,slidingwindow=<n>,slidingplan=<k>,kbound=<uniform|attention|attention-shared>,alpha=<α>,window=<n>,recent=<R>,recentbits=<B|16>,layout=<token-layer-head|token-layer>,tier=<0|1>,plan=<k>,rotate=<none|keys|values|both>,center=<none|keys|values|both>,skref=<T>,sink=<N>,clip=<B>,skip=<τ>,kscale=<0|1>,vscale=<0|1>,stagger=<0|1>,fastscores=<0|1>,fastvalues=<0|1>';

/** Which side a cache transform applies to (`rotate=` / `center=`): none, keys, values or both. */
function parseSide<Side extends string>(flag: 'rotate' | 'center', sides: readonly Side[], text: string, method: string): Side {
  if (!(sides as readonly string[]).includes(text)) invalid(`${flag} must be none, keys, values or both`, { method, [flag]: text });
  return text as Side;
}

const parseRotation = (text: string, method: string): KeyValueRotation => parseSide('rotate', keyValueRotations, text, method);
const parseCentering = (text: string, method: string): KeyValueCentering => parseSide('center', keyValueCenterings, text, method);

function invalid(message: string, details: Record<string, unknown>): never {
  throw new QaqError('invalid-kv-method', message, { details: { ...details, syntax: kvMethodSyntax } });
}

function parseBits(text: string | undefined, method: string, maximum: number): number {
  const bits = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || !Number.isInteger(bits) || bits < 1 || bits > maximum) {
    invalid(`${method} needs a bit width 1..${maximum}, got "${text ?? ''}"`, { method, bits: text });
  }
  return bits;
}

function parseNumber(key: string, text: string, method: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) invalid(`${key} must be a number, got "${text}"`, { method, key, value: text });
  return value;
}

function qaqSettings(base: QaqSettings, assignments: readonly string[], method: string): QaqSettings {
  const settings = { ...base };
  const seen = new Set<string>();
  for (const assignment of assignments) {
    const separator = assignment.indexOf('=');
    if (separator < 1) invalid(`expected key=value, got "${assignment}"`, { method, assignment });
    const key = assignment.slice(0, separator);
    const text = assignment.slice(separator + 1);
    if (seen.has(key)) invalid(`${key} is given twice`, { method, key });
    seen.add(key);
    switch (key) {
      case 'sk':
        settings.sigmaScoreMax = parseNumber(key, text, method);
        break;
      case 'sv':
        settings.sigmaOutputMax = parseNumber(key, text, method);
        break;
      case 'bmin':
        settings.minBits = parseNumber(key, text, method);
        break;
      case 'bmax':
        settings.maxBits = parseNumber(key, text, method);
        break;
      case 'kbmin':
        settings.keyMinBits = parseNumber(key, text, method);
        break;
      case 'vbmin':
        settings.valueMinBits = parseNumber(key, text, method);
        break;
      case 'fullsk':
      case 'fullsv':
      case 'fullkbmin':
      case 'fullvbmin':
      case 'fullwindow':
      case 'fullplan':
      case 'slidingsk':
      case 'slidingsv':
      case 'slidingkbmin':
      case 'slidingvbmin':
      case 'slidingwindow':
      case 'slidingplan': {
        const kind = key.startsWith('full') ? 'fullContext' : 'sliding';
        const field = layerKindFields[key.slice(kind === 'fullContext' ? 4 : 7) as keyof typeof layerKindFields];
        settings[kind] = { ...settings[kind], [field]: parseNumber(key, text, method) };
        break;
      }
      case 'layers':
        // Layer indices joined by "+"; anything but digits reads as NaN, which validateQaqSettings refuses.
        settings.plannedLayers = text.split('+').map((part) => (/^\d+$/.test(part) ? Number(part) : Number.NaN));
        break;
      case 'kbnew':
        settings.keyEntryBits = parseNumber(key, text, method);
        break;
      case 'vbnew':
        settings.valueEntryBits = parseNumber(key, text, method);
        break;
      case 'kbound':
        // 'uniform' is the default, kept absent; anything else is checked by validateQaqSettings.
        if (text === 'uniform') delete settings.keyBound;
        else settings.keyBound = text as KeyBound;
        break;
      case 'alpha':
        settings.outlierFraction = parseNumber(key, text, method);
        break;
      case 'window':
        settings.window = parseNumber(key, text, method);
        break;
      case 'recent':
        settings.recentWindow = parseNumber(key, text, method);
        break;
      case 'recentbits': {
        const bits = parseNumber(key, text, method);
        if (bits === 16) delete settings.recentWindowBits;
        else settings.recentWindowBits = bits;
        break;
      }
      case 'layout':
        if (text !== 'token-layer-head' && text !== 'token-layer') invalid(`layout must be token-layer-head or token-layer`, { method, layout: text });
        settings.groupLayout = text;
        break;
      case 'plan':
        settings.planInterval = parseNumber(key, text, method);
        break;
      case 'tier':
        if (text !== '0' && text !== '1') invalid('tier must be 0 or 1', { method, tier: text });
        settings.promotionTier = text === '1';
        break;
      case 'rotate':
        settings.rotation = parseRotation(text, method);
        break;
      case 'center':
        settings.centering = parseCentering(text, method);
        break;
      case 'skref':
        settings.scoreBudgetReferenceTokens = parseNumber(key, text, method);
        break;
      case 'sink':
        settings.sinkTokens = parseNumber(key, text, method);
        break;
      case 'skip': {
        const skip = parseNumber(key, text, method);
        if (skip === 0) delete settings.negligibleProbability;
        else settings.negligibleProbability = skip;
        break;
      }
      case 'kscale':
      case 'vscale':
      case 'stagger':
      case 'fastscores':
      case 'fastvalues': {
        if (text !== '0' && text !== '1') invalid(`${key} must be 0 or 1`, { method, [key]: text });
        const field = switchFields[key];
        if (text === '1') settings[field] = true;
        else delete settings[field];
        break;
      }
      case 'clip': {
        const clip = parseNumber(key, text, method);
        if (clip === 0) delete settings.clippedRangeMaxBits;
        else settings.clippedRangeMaxBits = clip;
        break;
      }
      default:
        invalid(`unknown qaq setting "${key}"`, { method, key, known: ['sk', 'sv', 'bmin', 'bmax', 'kbmin', 'vbmin', 'kbnew', 'vbnew', 'layers', 'fullsk', 'fullsv', 'fullkbmin', 'fullvbmin', 'fullwindow', 'fullplan', 'slidingsk', 'slidingsv', 'slidingkbmin', 'slidingvbmin', 'slidingwindow', 'slidingplan', 'kbound', 'alpha', 'window', 'recent', 'recentbits', 'layout', 'tier', 'plan', 'rotate', 'center', 'skref', 'sink', 'clip', 'skip', 'kscale', 'vscale', 'stagger', 'fastscores', 'fastvalues'] });
    }
  }
  // A preset's key and value floors follow overridden bounds (an explicit kbmin / vbmin is checked as given).
  for (const [flag, field] of [['kbmin', 'keyMinBits'], ['vbmin', 'valueMinBits']] as const) {
    const preset = settings[field];
    if (seen.has(flag) || preset === undefined) continue;
    const floor = Math.min(Math.max(preset, settings.minBits), settings.maxBits);
    if (floor === settings.minBits) delete settings[field];
    else settings[field] = floor;
  }
  validateQaqSettings(settings, method);
  return settings;
}

/** Checks the ranges the cache and the policy accept, so a bad method fails here with its own name. */
export function validateQaqSettings(settings: QaqSettings, method = 'qaq'): void {
  const { sigmaScoreMax, sigmaOutputMax, minBits, maxBits, outlierFraction, window, recentWindow, planInterval } = settings;
  if (!(sigmaScoreMax > 0) || !(sigmaOutputMax > 0)) invalid('sk and sv must be > 0', { method, sigmaScoreMax, sigmaOutputMax });
  const allowedBits = (bits: number): boolean => Number.isInteger(bits) && ((bits >= 1 && bits <= 8) || bits === 16);
  if (!allowedBits(minBits) || !allowedBits(maxBits) || minBits > maxBits) {
    invalid('bmin and bmax must be 1..8 or 16 with bmin ≤ bmax', { method, minBits, maxBits });
  }
  // The checks a setting shares with its per-kind copies (`fullkbmin=`, `slidingwindow=`, …); `name` keys the details.
  const checkWidth = (flag: string, name: string, bits: number | undefined): void => {
    if (bits !== undefined && (!allowedBits(bits) || bits < minBits || bits > maxBits)) {
      invalid(`${flag} must be a bit width in bmin..bmax`, { method, [name]: bits, minBits, maxBits });
    }
  };
  const checkWindow = (flag: string, name: string, value: number | undefined): void => {
    if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > 255)) invalid(`${flag} must be an integer in 1..255`, { method, [name]: value });
  };
  const checkPlan = (flag: string, name: string, value: number | undefined): void => {
    if (value !== undefined && (!Number.isInteger(value) || value < 1 || value > 1 << 20)) invalid(`${flag} must be a positive integer`, { method, [name]: value });
  };
  checkWidth('kbmin', 'keyMinBits', settings.keyMinBits);
  checkWidth('vbmin', 'valueMinBits', settings.valueMinBits);
  checkWidth('kbnew', 'keyEntryBits', settings.keyEntryBits);
  checkWidth('vbnew', 'valueEntryBits', settings.valueEntryBits);
  if (!(outlierFraction >= 0 && outlierFraction < 0.5)) invalid('alpha must be in [0, 0.5)', { method, outlierFraction });
  checkWindow('window', 'window', window);
  const { plannedLayers } = settings;
  if (plannedLayers !== undefined && (plannedLayers.some((layer) => !Number.isSafeInteger(layer) || layer < 0) || new Set(plannedLayers).size !== plannedLayers.length)) {
    invalid('layers must be distinct layer indices joined by "+" (e.g. layers=5+11+17)', { method, plannedLayers });
  }
  for (const [prefix, kind] of [['full', settings.fullContext], ['sliding', settings.sliding]] as const) {
    if (kind === undefined) continue;
    for (const [suffix, sigma] of [['sk', kind.sigmaScoreMax], ['sv', kind.sigmaOutputMax]] as const) {
      if (sigma !== undefined && !(sigma > 0)) invalid(`${prefix}${suffix} must be > 0`, { method, [`${prefix}${suffix}`]: sigma });
    }
    checkWidth(`${prefix}kbmin`, `${prefix}kbmin`, kind.keyMinBits);
    checkWidth(`${prefix}vbmin`, `${prefix}vbmin`, kind.valueMinBits);
    checkWindow(`${prefix}window`, `${prefix}window`, kind.window);
    checkPlan(`${prefix}plan`, `${prefix}plan`, kind.planInterval);
  }
  if (!Number.isInteger(recentWindow) || recentWindow < 0 || recentWindow > 1 << 20) {
    invalid('recent must be a non-negative integer', { method, recentWindow });
  }
  checkPlan('plan', 'planInterval', planInterval);
  const { scoreBudgetReferenceTokens } = settings;
  if (!Number.isInteger(scoreBudgetReferenceTokens) || scoreBudgetReferenceTokens < 0 || scoreBudgetReferenceTokens > 1 << 24) {
    invalid('skref must be a non-negative integer (0: off)', { method, scoreBudgetReferenceTokens });
  }
  const { keyBound } = settings;
  if (keyBound !== undefined && !(keyBounds as readonly string[]).includes(keyBound)) invalid('kbound must be uniform, attention or attention-shared', { method, keyBound });
  const sinkTokens = settings.sinkTokens ?? 0;
  if (!Number.isInteger(sinkTokens) || sinkTokens < 0 || sinkTokens > 1 << 20) {
    invalid('sink must be a non-negative integer (0: off)', { method, sinkTokens });
  }
  const recentBits = settings.recentWindowBits ?? 16;
  if (!allowedBits(recentBits)) {
    invalid('recentbits must be a bit width 1..8 or 16', { method, recentWindowBits: recentBits });
  }
  const clip = settings.clippedRangeMaxBits ?? 0;
  if (!Number.isInteger(clip) || clip < 0 || clip > 8) invalid('clip must be a bit width 0..8 (0: min–max everywhere)', { method, clippedRangeMaxBits: clip });
  const skip = settings.negligibleProbability ?? 0;
  if (!(skip >= 0 && skip <= 0.001)) invalid('skip must be a probability in [0, 0.001] (0: every token)', { method, negligibleProbability: skip });
}

/** The rotation each named preset stores its keys and values with (a cache transform, so not a policy knob). */
const presetRotation: Record<PolicyPresetName, KeyValueRotation> = { quality: 'none', compact: 'both', balanced: 'both', attentive: 'both', lean: 'both', watchful: 'both' };

/**
 * The τ below which each named preset's decode steps skip a token in the value pass (an attention-kernel setting, so
 * not a policy knob): `lean`, the default, 10⁻⁵ — on Moby-Dick (SmolLM2, 4,094 tokens) KL 0.0080 → 0.0083, top-1
 * 95.1 → 94.8%, and 16.4 against 14.8 tok/s at 7,168 tokens (packages/runtime/README.md); every other preset is exact.
 */
const presetNegligibleProbability: Record<PolicyPresetName, number> = { quality: 0, compact: 0, balanced: 0, attentive: 0, lean: 1e-5, watchful: 0 };

/**
 * The presets whose kernel scores quantized keys against 16-bit queries (`fastscores=1`, an attention-kernel setting):
 * `lean`, the fast default — on Moby-Dick (SmolLM2, 4,094 tokens) the same KL and top-1 within the noise of a
 * re-planned cache, and a quarter off the kernel's time at 7,168 tokens (packages/runtime/README.md, "Fast scores").
 */
const presetFastScores: Record<PolicyPresetName, boolean> = { quality: false, compact: false, balanced: false, attentive: false, lean: true, watchful: false };


/**
 * The presets that store keys with query-aware channel scales (`kscale=1`, a cache transform, so not a policy knob):
 * `lean` and `watchful`. Chosen on Moby-Dick (`STRIDE=2047 node --conditions=source --import tsx
 * packages/evaluation/bench/evaluate-text.ts <gguf> moby-prose.txt <tokens> 2048 <methods…>`, 2026-12-07 11:34–12:05
 * UTC, 2-core VM, two evaluations side by side; bits/element / KL / top-1): Gemma 3 270M, first 2,047 tokens,
 * watchful 3.99 / 0.0033 / 97.1% → with kscale=1 3.56 / 0.0049 / 96.5% (−0.44 bits/element; sk=0.002 3.35 / 0.0070
 * / 95.3%, sk=0.003 3.23 / 0.0089 / 95.2%); SmolLM2-135M, 4,094 tokens, watchful 3.15 / 0.0062 / 96.0% → 3.16 /
 * 0.0060 / 96.3%, lean (session 11) 3.11 / 0.0083 / 94.8% → 3.13 / 0.0081 / 95.7%. Equalized values (`vscale=1`) added
 * bits on Gemma 3 (3.58 / 0.0049 / 96.2%) and were left out.
 */
const presetQueryAwareKeyScaling: Record<PolicyPresetName, boolean> = { quality: false, compact: false, balanced: false, attentive: false, lean: true, watchful: true };

/**
 * What each named preset gives the two kinds of layers of a model that interleaves them (QaqSettings.fullContext /
 * sliding; a model whose layers all see the whole context is unaffected): `watchful` watches attention for 64 steps
 * and plans every 64 in the full-context layers (a token demoted while its attention dips is read at low bits when a
 * long-range layer wants it back) and for 16 in the sliding layers (where a token waiting for its first plan at 8
 * bits is a large share of 512). Chosen on Moby-Dick (`STRIDE=2047 node --conditions=source --import tsx
 * packages/evaluation/bench/evaluate-text.ts <Gemma 3 gguf> moby-prose.txt 2048 2048 <methods…>`, 2026-12-07
 * 15:51–16:10 UTC, 2-core VM; bits/element / KL / top-1): Gemma 3 270M, first 2,047 tokens, watchful with one
 * window and cadence 3.55 / 0.0049 / 96.5% → this 3.37 / 0.0039 / 96.3%; sliding layers alone at 16 3.19 / 0.0063 /
 * 95.9%; with the full-context layers' σ_S,max at 0.0006 too 3.52 / 0.0033 / 96.7%; with the sliding layers' at 0.002
 * 3.27 / 0.0049 / 95.7% (packages/runtime/README.md, "Where Gemma 3's error lives"). Those bits were read right after a
 * plan; averaged over the cadence this preset holds 3.44 (session 14, "Bits averaged over the plan cadence").
 */
const presetLayerKinds: Partial<Record<PolicyPresetName, Pick<QaqSettings, 'fullContext' | 'sliding'>>> = {
  watchful: { fullContext: { window: 64, planInterval: 64 }, sliding: { window: 16, planInterval: 16 } },
};

/**
 * The presets whose layers plan on staggered steps (`stagger=1`): those with long plan intervals, where a layer's
 * newest tokens waiting at 8 bits for their first plan are a visible share of the cache (up to k − 1 tokens per layer;
 * with every layer on the same step, all of them at once). Gemma 3, `qaq:watchful` on Moby-Dick (bits/element averaged
 * over the last 128 steps of each window, peak in parentheses): 3.44 (3.54) without, 3.45 (3.48) with
 * (packages/runtime/README.md, "Bits averaged over the plan cadence").
 */
const presetStaggeredPlans: Record<PolicyPresetName, boolean> = { quality: false, compact: false, balanced: false, attentive: false, lean: false, watchful: true };

/** The settings of a named policy preset (recent window 0, no promotion tier, the preset's attention sinks). */
export function qaqPresetSettings(name: PolicyPresetName): QaqSettings {
  const preset = policyPreset(name);
  return {
    sigmaScoreMax: preset.sigmaScoreMax,
    sigmaOutputMax: preset.sigmaOutputMax,
    minBits: preset.minBits,
    maxBits: preset.maxBits,
    outlierFraction: preset.outlierFraction,
    window: preset.window,
    groupLayout: preset.groupLayout,
    recentWindow: 0,
    promotionTier: false,
    planInterval: preset.planInterval,
    ...(preset.keyMinBits === preset.minBits ? {} : { keyMinBits: preset.keyMinBits }),
    ...(preset.valueMinBits === preset.minBits ? {} : { valueMinBits: preset.valueMinBits }),
    ...(preset.keyBound === 'uniform' ? {} : { keyBound: preset.keyBound }),
    rotation: presetRotation[name],
    centering: 'none',
    scoreBudgetReferenceTokens: preset.scoreBudgetReferenceTokens,
    sinkTokens: preset.sinkTokens,
    ...(presetNegligibleProbability[name] === 0 ? {} : { negligibleProbability: presetNegligibleProbability[name] }),
    ...(presetFastScores[name] ? { fastScores: true } : {}),
    ...(presetQueryAwareKeyScaling[name] ? { queryAwareKeyScaling: true } : {}),
    ...(presetStaggeredPlans[name] ? { staggeredPlans: true } : {}),
    ...presetLayerKinds[name],
  };
}

/** Parses a `--kv` method string; throws QaqError('invalid-kv-method') naming the problem and the syntax. */
export function parseKvMethod(text: string): KvMethod {
  const method = text.trim();
  if (method === 'fp32' || method === 'fp16') return { kind: method };
  if (method === 'ort-int4' || method === 'ort-int8') return { kind: 'ort', bits: method === 'ort-int4' ? 4 : 8 };
  const [name = '', ...rest] = method.split(':');
  if (name === 'uniform' || name === 'kivi') {
    if (rest.length !== 1) invalid(`${name} takes one argument: ${name}:<B>`, { method });
    const [bitsText, ...options] = (rest[0] ?? '').split(',');
    const bits = parseBits(bitsText, name, 8);
    if (name === 'kivi') {
      if (options.length > 0) invalid('kivi takes no options', { method });
      return { kind: 'kivi', bits };
    }
    let outlierFraction = 0;
    let part: KvPart = 'both';
    let rotation: KeyValueRotation = 'none';
    let centering: KeyValueCentering = 'none';
    const seen = new Set<string>();
    for (const option of options) {
      const match = /^(alpha|part|rotate|center)=(.*)$/.exec(option);
      if (match === null) {
        invalid(`unknown uniform option "${option}" (alpha=<α>, part=<keys|values>, rotate=<none|keys|values|both> or center=<none|keys|values|both>)`, { method, option });
      }
      const key = match[1] as 'alpha' | 'part' | 'rotate' | 'center';
      const text = match[2] ?? '';
      if (seen.has(key)) invalid(`${key} is given twice`, { method, key });
      seen.add(key);
      if (key === 'alpha') {
        outlierFraction = parseNumber('alpha', text, method);
        if (!(outlierFraction >= 0 && outlierFraction < 0.5)) invalid('alpha must be in [0, 0.5)', { method, outlierFraction });
      } else if (key === 'rotate') {
        rotation = parseRotation(text, method);
      } else if (key === 'center') {
        centering = parseCentering(text, method);
      } else {
        if (text !== 'keys' && text !== 'values' && text !== 'both') invalid('part must be keys, values or both', { method, part: text });
        part = text;
      }
    }
    return {
      kind: 'uniform',
      bits,
      outlierFraction,
      ...(part === 'both' ? {} : { part }),
      ...(rotation === 'none' ? {} : { rotation }),
      ...(centering === 'none' ? {} : { centering }),
    };
  }
  if (name === 'qaq') {
    if (rest.length === 0) return { kind: 'qaq', preset: defaultQaqPreset, settings: qaqPresetSettings(defaultQaqPreset) };
    if (rest.length > 2) invalid('too many ":" in a qaq method', { method });
    let preset: PolicyPresetName = defaultQaqPreset;
    let assignments = rest[rest.length - 1] ?? '';
    const first = rest[0] ?? '';
    if (rest.length === 2 || !first.includes('=')) {
      if (!(policyPresetNames as readonly string[]).includes(first)) {
        invalid(`unknown qaq preset "${first}"`, { method, preset: first, known: policyPresetNames });
      }
      preset = first as PolicyPresetName;
      assignments = rest.length === 2 ? (rest[1] ?? '') : '';
    }
    const base = qaqPresetSettings(preset);
    const list = assignments === '' ? [] : assignments.split(',');
    const settings = qaqSettings(base, list, method);
    return { kind: 'qaq', preset: list.length > 0 ? 'custom' : preset, settings };
  }
  invalid(`unknown KV method "${method}"`, { method });
}

/** The canonical text of a method (what `parseKvMethod` reads back to the same description). */
export function formatKvMethod(method: KvMethod): string {
  switch (method.kind) {
    case 'fp32':
    case 'fp16':
      return method.kind;
    case 'uniform': {
      const alpha = method.outlierFraction === 0 ? '' : `,alpha=${method.outlierFraction}`;
      const part = method.part === undefined || method.part === 'both' ? '' : `,part=${method.part}`;
      const rotate = method.rotation === undefined || method.rotation === 'none' ? '' : `,rotate=${method.rotation}`;
      const center = method.centering === undefined || method.centering === 'none' ? '' : `,center=${method.centering}`;
      return `uniform:${method.bits}${alpha}${part}${rotate}${center}`;
    }
    case 'kivi':
      return `kivi:${method.bits}`;
    case 'ort':
      return `ort-int${method.bits}`;
    case 'qaq': {
      if (method.preset !== 'custom') return `qaq:${method.preset}`;
      const s = method.settings;
      return (
        `qaq:sk=${s.sigmaScoreMax},sv=${s.sigmaOutputMax},bmin=${s.minBits},bmax=${s.maxBits},` +
        `${s.keyMinBits === undefined ? '' : `kbmin=${s.keyMinBits},`}${s.valueMinBits === undefined ? '' : `vbmin=${s.valueMinBits},`}` +
        `${s.keyEntryBits === undefined ? '' : `kbnew=${s.keyEntryBits},`}${s.valueEntryBits === undefined ? '' : `vbnew=${s.valueEntryBits},`}` +
        `${s.plannedLayers === undefined ? '' : `layers=${s.plannedLayers.join('+')},`}` +
        `${formatLayerKind('full', s.fullContext)}${formatLayerKind('sliding', s.sliding)}${s.keyBound === undefined || s.keyBound === 'uniform' ? '' : `kbound=${s.keyBound},`}` +
        `alpha=${s.outlierFraction},` +
        `window=${s.window},recent=${s.recentWindow},${s.recentWindowBits === undefined ? '' : `recentbits=${s.recentWindowBits},`}layout=${s.groupLayout},tier=${s.promotionTier ? 1 : 0},plan=${s.planInterval},` +
        `rotate=${s.rotation},${s.centering === 'none' ? '' : `center=${s.centering},`}skref=${s.scoreBudgetReferenceTokens},sink=${s.sinkTokens ?? 0}` +
        `${(s.clippedRangeMaxBits ?? 0) === 0 ? '' : `,clip=${s.clippedRangeMaxBits}`}` +
        `${(s.negligibleProbability ?? 0) === 0 ? '' : `,skip=${s.negligibleProbability}`}` +
        `${s.queryAwareKeyScaling === true ? ',kscale=1' : ''}${s.equalizingValueScaling === true ? ',vscale=1' : ''}` +
        `${s.staggeredPlans === true ? ',stagger=1' : ''}${s.fastScores === true ? ',fastscores=1' : ''}${s.fastValues === true ? ',fastvalues=1' : ''}`
      );
    }
  }
}
