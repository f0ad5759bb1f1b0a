/** What every benchmark worker runs: a model over a token file, prefill then greedy decode, with our KV method. */
export interface TextRunJob {
  readonly model: string;
  readonly modelPath: string;
  /** Int32 little-endian token ids, at least `contextTokens` of them. */
  readonly tokenFile: string;
  readonly contextTokens: number;
  readonly decodeSteps: number;
  readonly threads: number;
  readonly prefillChunk: number;
  /** Our runtime's KV method text. */
  readonly kv: string;
}

/** Parses a worker's JSON job argument into its fields; `label` names the job kind in errors. */
export function parseJobRecord(argument: string | undefined, label: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(argument ?? 'null');
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`${label}: expected a JSON object`);
  return parsed as Record<string, unknown>;
}

/** Checks the fields every TextRunJob has. */
export function parseTextRunJob(record: Record<string, unknown>, label: string): TextRunJob {
  const positiveInteger = (name: string): number => {
    const value = record[name];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new Error(`${label}: ${name} must be a positive integer, got ${String(value)}`);
    }
    return value;
  };
  const text = (name: string): string => {
    const value = record[name];
    if (typeof value !== 'string' || value === '') throw new Error(`${label}: ${name} must be a non-empty string`);
    return value;
  };
  return {
    model: text('model'),
    modelPath: text('modelPath'),
    tokenFile: text('tokenFile'),
    contextTokens: positiveInteger('contextTokens'),
    decodeSteps: positiveInteger('decodeSteps'),
    threads: positiveInteger('threads'),
    prefillChunk: positiveInteger('prefillChunk'),
    kv: text('kv'),
  };
}
