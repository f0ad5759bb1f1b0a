/**
 * A paged pool of equally sized slots, one group per slot, for one bit width of one (layer, kind).
 * Arrays: codes (codeBytes per slot), parameters (two fp16 per slot: minimum and step), outlier values
 * (fp16) and outlier positions (positionBytes each), plus a free list. Grows by doubling; never per token.
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
  codes: Uint8Array;
  parameters: Uint16Array;
  outlierValues: Uint16Array;
  /** One element per position: Uint8Array for groups ≤ 256 elements, else Uint16Array. */
  outlierPositions: Uint8Array | Uint16Array;
  private freeList: Int32Array;
  private freeCount: number;
  private used = 0;

  constructor(layout: SlotLayout, capacity: number) {
    this.layout = layout;
    const initial = Math.max(1, capacity);
    this.codes = new Uint8Array(initial * layout.codeBytes);
    this.parameters = new Uint16Array(initial * layout.parameterCount);
    this.outlierValues = new Uint16Array(initial * layout.outlierCount);
    this.outlierPositions = newPositions(initial * layout.outlierCount, layout.positionBytes);
    this.freeList = new Int32Array(initial);
    // Hand out low slots first: the free list is a stack with slot 0 on top.
    for (let index = 0; index < initial; index += 1) this.freeList[index] = initial - 1 - index;
    this.freeCount = initial;
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

  private grow(capacity: number): void {
    const old = this.capacity;
    const { codeBytes, parameterCount, outlierCount, positionBytes } = this.layout;
    const codes = new Uint8Array(capacity * codeBytes);
    codes.set(this.codes);
    const parameters = new Uint16Array(capacity * parameterCount);
    parameters.set(this.parameters);
    const outlierValues = new Uint16Array(capacity * outlierCount);
    outlierValues.set(this.outlierValues);
    const outlierPositions = newPositions(capacity * outlierCount, positionBytes);
    outlierPositions.set(this.outlierPositions);
    const freeList = new Int32Array(capacity);
    freeList.set(this.freeList.subarray(0, this.freeCount));
    // New slots go under the existing free ones, highest first so the lowest new slot is taken first.
    let top = this.freeCount;
    const added = capacity - old;
    freeList.copyWithin(added, 0, top);
    for (let index = 0; index < added; index += 1) freeList[index] = capacity - 1 - index;
    top += added;
    this.codes = codes;
    this.parameters = parameters;
    this.outlierValues = outlierValues;
    this.outlierPositions = outlierPositions;
    this.freeList = freeList;
    this.freeCount = top;
  }
}

function newPositions(count: number, positionBytes: number): Uint8Array | Uint16Array {
  return positionBytes === 2 ? new Uint16Array(count) : new Uint8Array(count);
}
