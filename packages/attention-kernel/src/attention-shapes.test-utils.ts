/** A model's attention shape for kernel tests. */
export interface Shape {
  readonly name: string;
  readonly queryHeads: number;
  readonly kvHeads: number;
  readonly headDim: number;
}

/** The shapes the kernel tests cover: the two real models, a grouped-query and a multi-head case. */
export const SHAPES: readonly Shape[] = [
  { name: 'SmolLM2 9q/3kv/64', queryHeads: 9, kvHeads: 3, headDim: 64 },
  { name: 'Gemma 3 4q/1kv/256', queryHeads: 4, kvHeads: 1, headDim: 256 },
  { name: 'GQA 8q/2kv/32', queryHeads: 8, kvHeads: 2, headDim: 32 },
  { name: 'MHA 2q/2kv/24', queryHeads: 2, kvHeads: 2, headDim: 24 },
];
