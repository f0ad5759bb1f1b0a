import { parseArgs } from 'node:util';
import { usageError } from './cli-error.js';
import { attentionThreadsOption, numberOption } from './options.js';

/** Separates methods in `--methods`: methods themselves contain commas (`qaq:sk=0.003,sv=0.01`). */
export const sweepMethodSeparator = ';';

/** The llama.cpp peers `--peers` adds (node-llama-cpp in bench/, KV cache f16, q8_0, q4_0). */
export const peerMethods: readonly string[] = ['llama-f16', 'llama-q8_0', 'llama-q4_0'];

/**
 * What `qaq eval --sweep` runs without `--methods`: the fp16 and uniform/KIVI baselines, onnxruntime's int4/int8
 * cache, QAQ's presets, and QAQ points around them for the Pareto front (tighter and looser error budgets).
 */
export const defaultSweepMethods: readonly string[] = [
  'fp16',
  'uniform:2',
  'uniform:3',
  'uniform:4',
  'uniform:8',
  'kivi:2',
  'kivi:4',
  'ort-int4',
  'ort-int8',
  'qaq',
  'qaq:attentive',
  'qaq:balanced',
  'qaq:compact',
  'qaq:sk=0.001,sv=0.01',
  'qaq:sk=0.005,sv=0.1',
  'qaq:sk=0.01,sv=0.2',
];

export interface EvaluationSweepOptions {
  readonly model: string;
  readonly text: string;
  readonly out: string;
  readonly methods: readonly string[];
  readonly context: number;
  readonly stride?: number;
  readonly maxTokens: number;
  /** The QAQ method whose bit widths the heatmap shows (its run writes the map), or null for no heatmap. */
  readonly heatmapMethod: string | null;
  /**
   * Our methods per child process, run in lockstep with one fp32 reference pass (peak RSS then shared within the
   * group): 1 = each method alone (the default), Infinity = all in one (`--lockstep`).
   */
  readonly groupSize: number;
  /** Kill a method's child process after this many minutes (recorded as a failure). */
  readonly timeoutMinutes: number;
  /** llama.cpp threads for the peers. */
  readonly peerThreads: number;
  /** `--attention-threads` handed to each child (absent: the children's default, auto). */
  readonly attentionThreads?: string;
  /** Machine description for the report (default: lscpu's model and the CPU count). */
  readonly machine?: string;
  /** Text description for the report (default: the file's name). */
  readonly textDescription?: string;
  /** The command line as the user typed it, for the report. */
  readonly command: string;
}

/** Splits `--methods` on ';' (blanks dropped, duplicates refused). */
export function parseSweepMethods(text: string): string[] {
  const methods = text
    .split(sweepMethodSeparator)
    .map((method) => method.trim())
    .filter((method) => method !== '');
  if (methods.length === 0) throw usageError(`--methods needs at least one method, separated by "${sweepMethodSeparator}"`, { methods: text });
  const duplicate = methods.find((method, index) => methods.indexOf(method) !== index);
  if (duplicate !== undefined) throw usageError(`--methods names ${duplicate} twice`, { methods: text });
  return methods;
}

const shellQuote = (argument: string): string => (/^[\w@%+=:,./-]+$/.test(argument) ? argument : `'${argument.replaceAll("'", "'\\''")}'`);

/** Parses `qaq eval --sweep …` (argv without the command name; `--sweep` itself may be present). */
export function parseSweepArguments(argv: readonly string[]): EvaluationSweepOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      sweep: { type: 'boolean', default: true },
      model: { type: 'string' },
      text: { type: 'string' },
      out: { type: 'string' },
      methods: { type: 'string' },
      peers: { type: 'boolean', default: false },
      context: { type: 'string' },
      stride: { type: 'string' },
      'max-tokens': { type: 'string' },
      'heatmap-method': { type: 'string' },
      'no-heatmap': { type: 'boolean', default: false },
      lockstep: { type: 'boolean', default: false },
      'group-size': { type: 'string' },
      'timeout-minutes': { type: 'string' },
      'peer-threads': { type: 'string' },
      'attention-threads': { type: 'string' },
      machine: { type: 'string' },
      'text-description': { type: 'string' },
    },
    strict: true,
  });
  if (values.text === undefined) throw usageError('eval --sweep needs --text <file.txt>', {});
  if (values.out === undefined) throw usageError('eval --sweep needs --out <folder> for the report', {});
  const context = numberOption('context', values.context, { minimum: 2, maximum: 1 << 20, integer: true }) ?? 1024;
  const stride = numberOption('stride', values.stride, { minimum: 1, maximum: context - 1, integer: true });
  const maxTokens = numberOption('max-tokens', values['max-tokens'], { minimum: 2, maximum: 1 << 24, integer: true }) ?? 4096;
  const timeoutMinutes = numberOption('timeout-minutes', values['timeout-minutes'], { minimum: 0.1, maximum: 24 * 60 }) ?? 120;
  const peerThreads = numberOption('peer-threads', values['peer-threads'], { minimum: 1, maximum: 256, integer: true }) ?? 1;
  const attentionThreads = values['attention-threads'];
  // Checked here so a bad value fails before any child starts.
  if (attentionThreads !== undefined) attentionThreadsOption(attentionThreads);
  const groupSizeOption = numberOption('group-size', values['group-size'], { minimum: 1, maximum: 1000, integer: true });
  if (values.lockstep && groupSizeOption !== undefined) throw usageError('give --lockstep or --group-size, not both', {});
  const groupSize = values.lockstep ? Number.POSITIVE_INFINITY : (groupSizeOption ?? 1);
  const chosen = values.methods === undefined ? [...defaultSweepMethods] : parseSweepMethods(values.methods);
  const methods = values.peers ? [...chosen, ...peerMethods.filter((peer) => !chosen.includes(peer))] : chosen;
  const heatmapMethod = values['no-heatmap'] ? null : (values['heatmap-method'] ?? (methods.includes('qaq') ? 'qaq' : (methods.find((method) => method.startsWith('qaq')) ?? null)));
  if (heatmapMethod !== null && !methods.includes(heatmapMethod)) {
    throw usageError(`--heatmap-method ${heatmapMethod} is not among the swept methods`, { heatmapMethod });
  }
  return {
    model: values.model ?? 'smollm2-135m',
    text: values.text,
    out: values.out,
    methods,
    context,
    ...(stride === undefined ? {} : { stride }),
    maxTokens,
    heatmapMethod,
    groupSize,
    timeoutMinutes,
    peerThreads,
    ...(attentionThreads === undefined ? {} : { attentionThreads }),
    ...(values.machine === undefined ? {} : { machine: values.machine }),
    ...(values['text-description'] === undefined ? {} : { textDescription: values['text-description'] }),
    command: ['pnpm', 'qaq', 'eval', ...(argv.includes('--sweep') ? [] : ['--sweep']), ...argv].map(shellQuote).join(' '),
  };
}
