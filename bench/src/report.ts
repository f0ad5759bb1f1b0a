import type { Measurement } from './run-measurement.js';
import type { EngineName } from './bench-engine.js';

export interface EngineResult extends Measurement {
  readonly engine: EngineName;
  /** The row's name when one engine runs several KV methods (e.g. `qaq (fp32)`); default: the engine. */
  readonly label?: string;
  readonly model: string;
  readonly contextTokens: number;
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  readonly loadSeconds: number;
  readonly peakResidentMegabytes: number;
}

const fixed = (value: number, digits: number): string => value.toFixed(digits);

/** How many leading greedy tokens two engines agree on (fp32 vs f16 caches may part ways eventually). */
export function agreedPrefix(first: readonly number[], second: readonly number[]): number {
  let count = 0;
  while (count < first.length && count < second.length && first[count] === second[count]) count++;
  return count;
}

/** Decode tokens per second from the median step: robust to the stalls a shared machine adds to some steps. */
export function medianDecodeTokensPerSecond(result: Measurement): number {
  return 1000 / result.decodeMedianMilliseconds;
}

/**
 * One row per engine × model × context, and per model × context our decode speed as a fraction of llama.cpp's
 * (from the median step).
 */
export function markdownTable(results: readonly EngineResult[]): string {
  const lines = [
    '| model | context | engine | prefill tok/s | decode tok/s (mean) | decode tok/s (median step) | peak RSS MB | decode vs llama.cpp (median) | same greedy tokens |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const result of results) {
    const reference = results.find(
      (other) => other.engine === 'llama.cpp' && other.model === result.model && other.contextTokens === result.contextTokens,
    );
    const ratio =
      reference === undefined ? '' : `${fixed(medianDecodeTokensPerSecond(result) / medianDecodeTokensPerSecond(reference), 2)}×`;
    const agreement =
      reference === undefined || reference === result ? '' : `${agreedPrefix(result.decodedTokens, reference.decodedTokens)}/${result.decodeSteps}`;
    lines.push(
      `| ${result.model} | ${result.prefillTokens + 1} | ${result.label ?? result.engine} | ${fixed(result.prefillTokensPerSecond, 1)} | ` +
        `${fixed(result.decodeTokensPerSecond, 1)} | ${fixed(medianDecodeTokensPerSecond(result), 1)} | ` +
        `${fixed(result.peakResidentMegabytes, 0)} | ${ratio} | ${agreement} |`,
    );
  }
  return lines.join('\n');
}
