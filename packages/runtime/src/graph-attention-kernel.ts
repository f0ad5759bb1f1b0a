import type { Backend, BackendSession, BackendTensor, SessionOptions } from '@qaq/backend-spec';
import { QaqError } from '@qaq/errors';
import { KvCache, probabilityRowCount, validateAttentionCall, type AttentionOptions, type GroupStore, type KvCacheConfig, type KvKind } from '@qaq/kv-cache';
import {
  buildCompactAttentionGraph,
  compactAttentionInput,
  compactAttentionOutput,
  POOL_OFFSET_TABLE_LENGTH,
  type CompactAttentionGraphOptions,
  type CompactKindLayout,
  type HalfPrecisionInputs,
} from '@qaq/onnx-graph';
import type { CacheAttentionKernel } from './compact-cache-attention.js';
import { WideningBuffers } from './float16-widening.js';

export interface GraphAttentionKernelOptions {
  readonly backend: Backend;
  /**
   * Options of the attention sessions (providers, threads; a backend's own options such as backend-web's
   * `requirePlacement` pass through). On WebGPU and CUDA the kernel adds the config entry
   * `session.disable_quant_qdq = '1'` unless given: onnxruntime's QDQ propagation would otherwise insert
   * QuantizeLinear nodes that WebGPU runs on the CPU.
   */
  readonly session?: SessionOptions;
  /**
   * How the cache's fp16 arrays are fed: 'float16' (the stored bits), 'float32' (widened per layer and call into
   * reusable buffers; the graph then has no float16 tensor), or 'auto' (default): 'float32' when the backend reports
   * a WebGPU adapter without `shader-f16` (backend-web's `adapter.shaderF16 === false`, e.g. SwiftShader), else
   * 'float16'. Packed codes are fed packed either way.
   */
  readonly halfPrecisionInputs?: HalfPrecisionInputs | 'auto';
}

/** Session config entry that keeps onnxruntime from rewriting the graph's DequantizeLinear nodes into Q/DQ pairs. */
const DISABLE_QDQ_REWRITES = 'session.disable_quant_qdq';

/** The half-precision feed a backend needs: float32 where its WebGPU adapter lacks shader-f16. */
export function halfPrecisionInputsFor(backend: Backend): HalfPrecisionInputs {
  const adapter = (backend as { readonly adapter?: { readonly shaderF16?: unknown } }).adapter;
  return adapter !== undefined && adapter !== null && adapter.shaderF16 === false ? 'float32' : 'float16';
}

/** Whether the sessions will run on a GPU provider: the requested providers, else the backend's default one. */
function runsOnGpuProvider(backend: Backend, session: SessionOptions | undefined): boolean {
  const providers = session?.executionProviders ?? [(backend as { readonly provider?: string }).provider ?? 'cpu'];
  return providers.some((provider) => provider === 'webgpu' || provider === 'cuda');
}

/** Flat slot indices travel as float32 in the graph: exact below 2^24. */
const LARGEST_FLAT_SLOT = 2 ** 24;

/**
 * Attention over the compact cache as an ONNX graph on a backend session (`@qaq/onnx-graph`'s
 * `buildCompactAttentionGraph`): the strategy CompactCacheAttention runs when the attention must stay on a GPU
 * execution provider instead of the WebAssembly kernel. Each call feeds the layer's storage as the cache holds it —
 * every non-empty pool's codes, fp16 parameters and outliers at their full capacity, the per-group bit-width tags and
 * slot-index bytes, zero-copy views on the CPU — plus a 17-float table of where each pool's slots start, and gets
 * the attention output and the per-KV-head max probabilities straight into the caller's buffers. One session per
 * distinct pool set (widths present, slot-index width, window), created on first use and kept.
 */
export class GraphAttentionKernel implements CacheAttentionKernel {
  readonly kind = 'onnx-graph';
  readonly #backend: Backend;
  readonly #sessionOptions: SessionOptions | undefined;
  /** How fp16 arrays are fed (resolved from 'auto' at construction). */
  readonly halfPrecisionInputs: HalfPrecisionInputs;
  readonly #widened = new WideningBuffers();
  readonly #sessions = new Map<string, Promise<BackendSession>>();
  readonly #offsets = {
    keys: new Float32Array(POOL_OFFSET_TABLE_LENGTH),
    values: new Float32Array(POOL_OFFSET_TABLE_LENGTH),
  };
  /**
   * Per kind: every width that has held groups in any layer so far. Each call feeds these pools (a one-slot
   * placeholder where a layer has no pool of a width), so after the first steps every layer shares one session
   * instead of one per layer's own mix of widths.
   */
  readonly #widthsSeen = { keys: new Set<number>(), values: new Set<number>() };
  /** Zero-filled one-slot arrays standing in for a pool a layer does not have, by element count. */
  readonly #placeholders = new Map<number, Uint8Array>();
  /** Every query's probabilities when the caller keeps only the last rows (grown, reused). */
  #probabilityScratch = new Float32Array(0);
  /** Per kind, the layer's tags unpacked to one byte per group (the cache packs two per byte; the graph reads bytes). */
  readonly #tagScratch = { keys: new Uint8Array(0), values: new Uint8Array(0) };
  /** Bytes of every tensor fed to the last run (what a GPU provider uploads per call). */
  lastFedBytes = 0;

  constructor(options: GraphAttentionKernelOptions) {
    this.#backend = options.backend;
    const requested = options.halfPrecisionInputs ?? 'auto';
    if (requested !== 'auto' && requested !== 'float16' && requested !== 'float32') {
      throw new QaqError('invalid-option', "halfPrecisionInputs must be 'auto', 'float16' or 'float32'", { details: { halfPrecisionInputs: requested } });
    }
    this.halfPrecisionInputs = requested === 'auto' ? halfPrecisionInputsFor(options.backend) : requested;
    const session = options.session;
    if (runsOnGpuProvider(options.backend, session)) {
      const configEntries = (session as { readonly configEntries?: Readonly<Record<string, string>> } | undefined)?.configEntries;
      this.#sessionOptions = { ...session, configEntries: { [DISABLE_QDQ_REWRITES]: '1', ...configEntries } } as SessionOptions;
    } else {
      this.#sessionOptions = session;
    }
  }

  /** Bytes of the reusable float32 buffers the fp16 arrays are widened into ('float32' feeds; 0 otherwise). */
  get wideningBytes(): number {
    return this.#widened.bytes;
  }

  /** A cache on the JS heap (the graph reads its arrays; no WebAssembly memory is needed). */
  createCache(config: KvCacheConfig): KvCache {
    return new KvCache(config);
  }

  /** Sessions created so far (one per pool set seen). */
  get sessionCount(): number {
    return this.#sessions.size;
  }

  async attendMulti(
    cache: KvCache,
    layer: number,
    queries: Float32Array,
    queryCount: number,
    options: AttentionOptions,
    output: Float32Array,
    maxProbabilities: Float32Array | null,
  ): Promise<void> {
    const tokenCount = validateAttentionCall(cache, layer, queries, queryCount, options, output, maxProbabilities);
    const { kvHeads, headDim } = cache;
    const { queryHeads, scoreScale } = options;
    const keyStore = cache.store('keys', layer);
    const valueStore = cache.store('values', layer);
    const graphOptions: CompactAttentionGraphOptions = {
      queryHeads,
      kvHeads,
      headDim,
      groupLayout: cache.config.groupLayout,
      outlierCount: keyStore.outlierCount,
      outlierPositionBytes: keyStore.positionBytes === 2 ? 2 : 1,
      scoreScale,
      slidingWindow: options.slidingWindow === undefined || !Number.isFinite(options.slidingWindow) ? null : options.slidingWindow,
      keys: this.#kindLayout(keyStore, 'keys'),
      values: this.#kindLayout(valueStore, 'values'),
      ...(this.halfPrecisionInputs === 'float32' ? { halfPrecisionInputs: 'float32' as const } : {}),
    };
    const session = await this.#session(graphOptions);
    const backend = this.#backend;
    const feeds: Record<string, BackendTensor> = {
      [compactAttentionInput.query]: backend.createTensor('float32', queries, [queryCount, queryHeads, headDim]),
    };
    let fedBytes = queries.byteLength;
    for (const [kind, store] of [
      ['keys', keyStore],
      ['values', valueStore],
    ] as const) {
      fedBytes += this.#feedKind(feeds, kind, store, graphOptions[kind]);
    }
    this.lastFedBytes = fedBytes;
    const rowLength = queryHeads * headDim;
    const outputs: Record<string, BackendTensor> = {
      [compactAttentionOutput.attention]: backend.createTensor('float32', output.subarray(0, queryCount * rowLength), [queryCount, rowLength]),
    };
    // The graph writes every query's row; with probabilityRows < queryCount they land in a reused buffer first.
    const keptRows = probabilityRowCount(queryCount, options);
    const probabilityLength = queryCount * kvHeads * tokenCount;
    let allProbabilities: Float32Array | null = null;
    if (maxProbabilities !== null) {
      if (keptRows === queryCount) {
        allProbabilities = maxProbabilities.subarray(0, probabilityLength);
      } else {
        if (this.#probabilityScratch.length < probabilityLength) this.#probabilityScratch = new Float32Array(probabilityLength);
        allProbabilities = this.#probabilityScratch.subarray(0, probabilityLength);
      }
      outputs[compactAttentionOutput.maxProbabilities] = backend.createTensor('float32', allProbabilities, [queryCount, kvHeads, tokenCount]);
    }
    await session.run(feeds, { outputs, fetches: Object.keys(outputs) });
    if (maxProbabilities !== null && allProbabilities !== null && keptRows < queryCount) {
      maxProbabilities.set(allProbabilities.subarray((queryCount - keptRows) * kvHeads * tokenCount));
    }
  }

  async dispose(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const session of sessions) await (await session).dispose();
  }

  #session(options: CompactAttentionGraphOptions): Promise<BackendSession> {
    const key = JSON.stringify(options);
    let session = this.#sessions.get(key);
    if (session === undefined) {
      const { model } = buildCompactAttentionGraph(options);
      session = this.#backend.createSession(model, this.#sessionOptions);
      // A failed creation is not cached: the next call tries again.
      session.catch(() => this.#sessions.delete(key));
      this.#sessions.set(key, session);
    }
    return session;
  }

  /** The widths to feed for a store (those seen so far, this layer's included) and its slot-index width. */
  #kindLayout(store: GroupStore, kind: KvKind): CompactKindLayout {
    const seen = this.#widthsSeen[kind];
    store.pools.forEach((pool, bits) => {
      if (pool !== undefined && pool.liveSlots > 0) seen.add(bits);
    });
    return { poolBits: [...seen].sort((a, b) => a - b), slotIndexBytes: store.slotIndexBytes === 4 ? 4 : 2 };
  }

  /** A zero-filled byte array of at least `bytes` bytes, 4-aligned (never written: nothing points at it). */
  #placeholder(bytes: number): Uint8Array {
    let placeholder = this.#placeholders.get(bytes);
    if (placeholder === undefined) {
      placeholder = new Uint8Array(new ArrayBuffer(Math.max(4, bytes + (bytes % 2))), 0, bytes);
      this.#placeholders.set(bytes, placeholder);
    }
    return placeholder;
  }

  /** `count` zero fp16 values (a view on a byte placeholder). */
  #placeholder16(count: number): Uint16Array {
    return new Uint16Array(this.#placeholder(2 * count).buffer, 0, count);
  }

  /** An fp16 array as fed: its bits as float16, or widened into this kernel's reusable float32 buffer for `name`. */
  #halfTensor(name: string, values: Uint16Array, dimensions: readonly number[]): BackendTensor {
    if (this.halfPrecisionInputs === 'float16') return this.#backend.createTensor('float16', values, dimensions);
    return this.#backend.createTensor('float32', this.#widened.widen(name, values), dimensions);
  }

  /** Adds one kind's feeds (views on the store's arrays, or widened copies of the fp16 ones); returns their bytes. */
  #feedKind(feeds: Record<string, BackendTensor>, kind: KvKind, store: GroupStore, layout: CompactKindLayout): number {
    const backend = this.#backend;
    const groups = store.groupCount;
    const offsets = this.#offsets[kind];
    offsets.fill(0);
    let flatSlots = 0;
    let bytes = offsets.byteLength;
    const { outlierCount, positionBytes, groupLength } = store;
    // fp16 arrays fed widened take twice their stored bytes.
    const halfFactor = this.halfPrecisionInputs === 'float32' ? 2 : 1;
    for (const bits of layout.poolBits) {
      const pool = store.pools[bits];
      const codeBytes = bits === 16 ? 2 * groupLength : Math.ceil((groupLength * bits) / 8);
      // A width this layer has no pool of: one zero slot that no group points at.
      const capacity = pool === undefined ? 1 : pool.capacity;
      const codes = pool === undefined ? this.#placeholder(codeBytes) : pool.codes;
      const parameters = pool === undefined ? this.#placeholder16(2) : pool.parameters;
      offsets[bits] = flatSlots;
      flatSlots += capacity;
      if (bits === 16) {
        feeds[compactAttentionInput.pool(kind, 'codes', bits)] = this.#halfTensor(compactAttentionInput.pool(kind, 'codes', bits), float16View(codes, capacity * groupLength), [capacity, groupLength]);
      } else {
        feeds[compactAttentionInput.pool(kind, 'codes', bits)] = backend.createTensor('uint8', codes, [capacity, codeBytes]);
        if (outlierCount > 0) {
          const values = pool === undefined ? this.#placeholder16(outlierCount) : pool.outlierValues;
          const positions = pool === undefined ? this.#placeholder(outlierCount * positionBytes) : pool.outlierPositions;
          feeds[compactAttentionInput.pool(kind, 'outlier_values', bits)] = this.#halfTensor(compactAttentionInput.pool(kind, 'outlier_values', bits), values, [capacity, outlierCount]);
          feeds[compactAttentionInput.pool(kind, 'outlier_positions', bits)] = backend.createTensor(
            'uint8',
            new Uint8Array(positions.buffer, positions.byteOffset, positions.byteLength),
            [capacity, outlierCount * positionBytes],
          );
          bytes += halfFactor * values.byteLength + positions.byteLength;
        }
      }
      feeds[compactAttentionInput.pool(kind, 'parameters', bits)] = this.#halfTensor(compactAttentionInput.pool(kind, 'parameters', bits), parameters, [capacity, 2]);
      bytes += (bits === 16 ? halfFactor : 1) * codes.byteLength + halfFactor * parameters.byteLength;
    }
    if (flatSlots > LARGEST_FLAT_SLOT) {
      throw new QaqError('cache-too-large-for-graph', 'the graph indexes slots in float32: at most 2^24 slots per layer and kind', {
        details: { kind, slots: flatSlots },
      });
    }
    const slots = store.slots;
    const slotBytes = new Uint8Array(slots.buffer, slots.byteOffset, groups * slots.BYTES_PER_ELEMENT);
    if (this.#tagScratch[kind].length < groups) this.#tagScratch[kind] = new Uint8Array(Math.max(groups, 2 * this.#tagScratch[kind].length));
    const tags = store.readTags(this.#tagScratch[kind]);
    feeds[compactAttentionInput.bitWidths(kind)] = backend.createTensor('uint8', tags.subarray(0, groups), [groups]);
    feeds[compactAttentionInput.slotBytes(kind)] = backend.createTensor('uint8', slotBytes, [groups, slots.BYTES_PER_ELEMENT]);
    feeds[compactAttentionInput.poolOffsets(kind)] = backend.createTensor('float32', offsets, [POOL_OFFSET_TABLE_LENGTH]);
    return bytes + groups * (1 + slots.BYTES_PER_ELEMENT);
  }
}


/** fp16 codes as a Uint16Array view (a copy only if the bytes are not 2-aligned, which heap pools never are). */
function float16View(codes: Uint8Array, length: number): Uint16Array {
  if (codes.byteOffset % 2 === 0) return new Uint16Array(codes.buffer, codes.byteOffset, length);
  const copy = new Uint16Array(length);
  new Uint8Array(copy.buffer).set(codes.subarray(0, length * 2));
  return copy;
}
