import { parseArgs } from 'node:util';

/** Where attention over the runtime's cache runs in the segmented methods (fp16, uniform, qaq): @qaq/runtime's strategies. */
export type DeviceCheckAttention = 'wasm-kernel' | 'graph';

/** The device check's command line, checked. */
export interface DeviceCheckOptions {
  readonly cpu: boolean;
  readonly providers: readonly string[] | undefined;
  readonly model: string | undefined;
  readonly tokens: string | undefined;
  readonly methods: readonly string[];
  readonly contexts: readonly number[];
  readonly decodeSteps: number;
  readonly prefillChunk: number;
  readonly threads: number | undefined;
  readonly budgetSeconds: number;
  readonly skipConformance: boolean;
  /** Hold `matmul-numerics` to float32 on cuda too (e.g. under NVIDIA_TF32_OVERRIDE=0); default: TF32 allowed on cuda. */
  readonly strictFloat32MatMul: boolean;
  /**
   * 'wasm-kernel' (default): the WebAssembly kernel on the CPU between the GPU segment graphs; 'graph': attention as
   * an ONNX graph on the same provider (GraphAttentionKernel). ort-int4/ort-int8 keep onnxruntime's own attention.
   */
  readonly attention: DeviceCheckAttention;
  readonly json: string | undefined;
  readonly writeTokens: string | undefined;
}

const attentionStrategies: readonly DeviceCheckAttention[] = ['wasm-kernel', 'graph'];

/** Parses and checks the device check's arguments; throws an Error naming the bad option. */
export function parseDeviceCheckOptions(args: readonly string[]): DeviceCheckOptions {
  const { values } = parseArgs({
    args: [...args],
    options: {
      cpu: { type: 'boolean', default: false },
      providers: { type: 'string' },
      model: { type: 'string' },
      tokens: { type: 'string' },
      methods: { type: 'string', default: 'fp16,ort-int4,qaq' },
      contexts: { type: 'string' },
      'decode-steps': { type: 'string' },
      'prefill-chunk': { type: 'string', default: '512' },
      threads: { type: 'string' },
      'budget-seconds': { type: 'string', default: '360' },
      'skip-conformance': { type: 'boolean', default: false },
      'strict-float32-matmul': { type: 'boolean', default: false },
      attention: { type: 'string', default: 'wasm-kernel' },
      json: { type: 'string' },
      'write-tokens': { type: 'string' },
    },
  });
  const cpu = values.cpu;
  const contexts = (values.contexts ?? (cpu ? '128,256' : '2048,8192')).split(',').map(Number);
  const decodeSteps = Number(values['decode-steps'] ?? (cpu ? 8 : 32));
  const prefillChunk = Number(values['prefill-chunk']);
  const budgetSeconds = Number(values['budget-seconds']);
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  const counts: [string, number | undefined][] = [
    ['decode-steps', decodeSteps],
    ['prefill-chunk', prefillChunk],
    ['budget-seconds', budgetSeconds],
    ['threads', threads],
    ...contexts.map((context): [string, number] => ['contexts', context]),
  ];
  for (const [name, value] of counts) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) throw new Error(`--${name} must be a positive integer, got ${String(value)}`);
  }
  const attention = values.attention as DeviceCheckAttention;
  if (!attentionStrategies.includes(attention)) throw new Error(`--attention must be ${attentionStrategies.join(' or ')}, got '${values.attention}'`);
  return {
    cpu,
    providers: values.providers?.split(','),
    model: values.model,
    tokens: values.tokens,
    methods: values.methods.split(',').filter((method) => method !== ''),
    contexts,
    decodeSteps,
    prefillChunk,
    threads,
    budgetSeconds,
    skipConformance: values['skip-conformance'],
    strictFloat32MatMul: values['strict-float32-matmul'],
    attention,
    json: values.json,
    writeTokens: values['write-tokens'],
  };
}
