/** The KV methods the app offers; any text `parseKvMethod` accepts can also come from `?kv=`. */
export interface KvMethodChoice {
  readonly value: string;
  readonly label: string;
}

export const kvMethodChoices: readonly KvMethodChoice[] = [
  { value: 'qaq:lean', label: 'QAQ (lean preset: attention-sized, ≈ 3.1 bits)' },
  { value: 'qaq:watchful', label: 'QAQ (watchful preset: lean, attention watched between every plan)' },
  { value: 'qaq', label: 'QAQ (quality preset)' },
  { value: 'qaq:attentive', label: 'QAQ (attentive preset)' },
  { value: 'qaq:balanced', label: 'QAQ (balanced preset)' },
  { value: 'qaq:compact', label: 'QAQ (compact preset)' },
  { value: 'fp16', label: 'fp16 cache (reference)' },
  { value: 'uniform:4', label: 'uniform 4-bit' },
  { value: 'kivi:2', label: 'KIVI 2-bit (slow reference attention)' },
  { value: 'ort-int4', label: 'ONNX Runtime int4 (GroupQueryAttention)' },
  { value: 'fp32', label: 'fp32 dense graph (no compact cache)' },
];
