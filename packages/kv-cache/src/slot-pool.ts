import { ArenaBlock, uint16View, uint8View, type ByteArena } from './arena.js';

/**
 * A paged pool of equally sized slots, one group per slot, for one bit width of one (layer, kind).
 * Arrays: codes (codeBytes per slot), parameters (two fp16 per slot: minimum and step), outlier values
 * (fp16) and outlier positions (positionBytes each), plus a free list. Grows by doubling; never per token.
 * With an arena the four data arrays live in it (the free list stays on the JS heap): read them through the
 * getters, which re-derive the views after the arena grew, and never keep one across an allocation.
 */
export interface SlotLayout {
  readonly codeBytes: number;
  /** fp16 parameters per slot (2: minimum and step; 0 for the promotion tier). */
  readonly parameterCount: number;
  /** Outliers per slot (both sides). */
  readonly outlierCount: number;
  /** Bytes per outlier position: 1 when the group has ≤ 256 elements, else 2. */
  readonly positionBytes: number;
}

export class SlotPool {
  readonly layout: SlotLayout;
  private readonly arena: ByteArena | null;
  private codesBlock: ArenaBlock<Uint8Array>;
  private parametersBlock: ArenaBlock<Uint16Array>;
  private outlierValuesBlock: ArenaBlock<Uint16Array>;
  private outlierPositionsBlock: ArenaBlock<Uint8Array | Uint16Array>;
  private freeList: Int32Array;
  private freeCount: number;
  private used = 0;

  constructor(layout: SlotLayout, capacity: number, arena: ByteArena | null = null) {
    this.layout = layout;
    this.arena = arena;
    const initial = Math.max(1, capacity);
    this.codesBlock = new ArenaBlock(arena, uint8View, 1, initial * layout.codeBytes);
    this.parametersBlock = new ArenaBlock(arena, uint16View, 2, initial * layout.parameterCount);
    this.outlierValuesBlock = new ArenaBlock(arena, uint16View, 2, initial * layout.outlierCount);
    this.outlierPositionsBlock = newPositions(arena, initial * layout.outlierCount, layout.positionBytes);
    this.freeList = new Int32Array(initial);
    // Hand out low slots first: the free list is a stack with slot 0 on top.
    for (let index = 0; index < initial; index += 1) this.freeList[index] = initial - 1 - index;
    this.freeCount = initial;
  }

  get codes(): Uint8Array {
    return this.codesBlock.array;
  }

  get parameters(): Uint16Array {
    return this.parametersBlock.array;
  }

  get outlierValues(): Uint16Array {
    return this.outlierValuesBlock.array;
  }

  /** One element per position: Uint8Array for groups ≤ 256 elements, else Uint16Array. */
  get outlierPositions(): Uint8Array | Uint16Array {
    return this.outlierPositionsBlock.array;
  }

  /** Byte offset of the codes in the arena (meaningful only with an arena; no allocation, for per-step use). */
  get codesOffset(): number {
    return this.codesBlock.byteOffset;
  }

  get parametersOffset(): number {
    return this.parametersBlock.byteOffset;
  }

  get outlierValuesOffset(): number {
    return this.outlierValuesBlock.byteOffset;
  }

  get outlierPositionsOffset(): number {
    return this.outlierPositionsBlock.byteOffset;
  }

  /** Byte offsets of the data arrays in the arena (meaningful only with an arena). */
  get arenaOffsets(): { codes: number; parameters: number; outlierValues: number; outlierPositions: number } {
    return {
      codes: this.codesBlock.byteOffset,
      parameters: this.parametersBlock.byteOffset,
      outlierValues: this.outlierValuesBlock.byteOffset,
      outlierPositions: this.outlierPositionsBlock.byteOffset,
    };
  }

  get capacity(): number {
    return this.freeList.length;
  }

  get liveSlots(): number {
    return this.used;
  }

  /** Bytes one slot holds in each array. */
  get slotBytes(): number {
    const { codeBytes, parameterCount, outlierCount, positionBytes } = this.layout;
    return codeBytes + parameterCount * 2 + outlierCount * (2 + positionBytes);
  }

  /** Whether `count` more slots fit without growing. */
  canTake(count: number): boolean {
    return count <= this.freeCount;
  }

  /** Grows (doubling) until `count` more slots fit. */
  reserve(count: number): void {
    if (count <= this.freeCount) return;
    let capacity = this.capacity;
    while (capacity - this.used < count) capacity *= 2;
    this.grow(capacity);
  }

  allocate(): number {
    if (this.freeCount === 0) this.grow(this.capacity * 2);
    this.freeCount -= 1;
    this.used += 1;
    return this.freeList[this.freeCount] as number;
  }

  release(slot: number): void {
    this.freeList[this.freeCount] = slot;
    this.freeCount += 1;
    this.used -= 1;
  }

  /** Bytes held by every typed array of the pool. */
  byteLength(): number {
    return (
      this.codes.byteLength +
      this.parameters.byteLength +
      this.outlierValues.byteLength +
      this.outlierPositions.byteLength +
      this.freeList.byteLength
    );
  }

  /** Bytes of the free list (bookkeeping). */
  freeListBytes(): number {
    return this.freeList.byteLength;
  }

  /** Returns every block to the arena; the pool must not be used afterwards. */
  free(): void {
    this.codesBlock.free();
    this.parametersBlock.free();
    this.outlierValuesBlock.free();
    this.outlierPositionsBlock.free();
  }

  private grow(capacity: number): void {
    const old = this.capacity;
    const { codeBytes, parameterCount, outlierCount, positionBytes } = this.layout;
    const arena = this.arena;
    // Allocate everything first (the arena may grow and replace its buffer), then copy through fresh views.
    const codes = new ArenaBlock(arena, uint8View, 1, capacity * codeBytes);
    const parameters = new ArenaBlock(arena, uint16View, 2, capacity * parameterCount);
    const outlierValues = new ArenaBlock(arena, uint16View, 2, capacity * outlierCount);
    const outlierPositions = newPositions(arena, capacity * outlierCount, positionBytes);
    codes.array.set(this.codes);
    parameters.array.set(this.parameters);
    outlierValues.array.set(this.outlierValues);
    outlierPositions.array.set(this.outlierPositions);
    this.free();
    const freeList = new Int32Array(capacity);
    freeList.set(this.freeList.subarray(0, this.freeCount));
    // New slots go under the existing free ones, highest first so the lowest new slot is taken first.
    let top = this.freeCount;
    const added = capacity - old;
    freeList.copyWithin(added, 0, top);
    for (let index = 0; index < added; index += 1) freeList[index] = capacity - 1 - index;
    top += added;
    this.codesBlock = codes;
    this.parametersBlock = parameters;
    this.outlierValuesBlock = outlierValues;
    this.outlierPositionsBlock = outlierPositions;
    this.freeList = freeList;
    this.freeCount = top;
  }
}

function newPositions(arena: ByteArena | null, count: number, positionBytes: number): ArenaBlock<Uint8Array | Uint16Array> {
  return positionBytes === 2
    ? new ArenaBlock<Uint8Array | Uint16Array>(arena, uint16View, 2, count)
    : new ArenaBlock<Uint8Array | Uint16Array>(arena, uint8View, 1, count);
}
