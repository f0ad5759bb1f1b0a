import { isQaqError } from '@qaq/errors';
import { formatKvMethod, kvMethodSyntax, parseKvMethod as parseRuntimeKvMethod, type KvMethod } from '@qaq/runtime';
import { usageError } from './cli-error.js';

export type { KvMethod };

/**
 * What `--kv` means when it is not given: QAQ's lean preset, the best of the presets on held-out text for both models
 * (docs/evaluation: fewer bits and lower KL than `qaq` = `qaq:quality`).
 */
export const defaultKvMethod = 'qaq:lean';

export const kvMethodHelp = `  --kv <method>           KV cache method (default qaq:lean; qaq = qaq:quality):
                          fp32 (dense, in the graph), fp16, uniform:<B>[,alpha=<α>], kivi:<B> (slow reference
                          attention), qaq, qaq:<quality|lean|watchful|attentive|balanced|compact>, or qaq:sk=<σS>,sv=<σX>[,bmin=,bmax=,
                          kbmin=,vbmin=,kbnew=,vbnew= (bits new keys / values enter at; default bmax),
                          layers=<i+j+…> (plan only these layers, an ablation),
                          fullsk=,fullsv=,fullkbmin=,fullvbmin=,fullwindow=,fullplan= and the same with
                          sliding… (a mixed model's full-context / sliding-window layers with their own σS, σX,
                          floors, window and plan interval),
                          kbound=<uniform|attention|attention-shared>,alpha=,
                          window=,recent=,recentbits=,layout=,tier=,plan=,rotate=,center=,skref=,sink=,clip=,
                          skip=<τ> (decode skips tokens below τ in the value pass; lean 1e-5, skip=0 exact),
                          kscale=<0|1>, vscale=<0|1> (per-channel key / value scales, exact in attention),
                          stagger=<0|1> (layers plan on staggered steps, so they do not all hold their newest
                          tokens at entry width at once; watchful 1),
                          fastscores=<0|1> (the kernel scores quantized keys against 16-bit queries; lean 1),
                          fastvalues=<0|1> (the kernel sums decode values in integers; an option)];
                          ort-int4, ort-int8 (onnxruntime's built-in
                          GroupQueryAttention cache, per-channel scales from the sequence's first 128 tokens)
`;

/** Parses `--kv` with @qaq/runtime's contract; a bad method is a usage error (exit code 2) naming it. */
export function parseKvMethod(value: string | undefined): { method: KvMethod; name: string } {
  const text = value ?? defaultKvMethod;
  try {
    const method = parseRuntimeKvMethod(text);
    return { method, name: formatKvMethod(method) };
  } catch (error) {
    if (isQaqError(error) && error.code === 'invalid-kv-method') {
      const prefix = /^unknown KV method/.test(error.message) ? `unknown --kv method "${text}"` : `--kv ${text}: ${error.message}`;
      throw usageError(`${prefix}; expected ${kvMethodSyntax}`, { method: text });
    }
    throw error;
  }
}
