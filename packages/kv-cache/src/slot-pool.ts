import { ArenaBlock, uint16View, uint8View, type ByteArena } from './arena.js';

/**
 * A paged pool of equally sized slots, one group per slot, for one bit width of one (layer, kind).
 * Arrays: codes (codeBytes per slot), parameters (two fp16 per slot: minimum and step), outlier values
 * (fp16) and outlier positions (positionBytes each), plus a free list. Grows by a quarter (at least 16 slots;
 * never per token) and, once fewer than SHRINK_BELOW of its slots are live, its owner compacts it (moves the live
 * slots below the new capacity, `moveSlot`) and shrinks it (`shrinkTo`), so capacity follows the live slots.
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
  /** One bit per slot, set when in use (bits past the capacity are set too, so they are never handed out). */
  private usedBits: Uint32Array;
  private slotCapacity: number;
  /** No free slot below this one. */
  private lowestFree = 0;
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
    // A bitmap rather than a free-slot list: 1 bit per slot instead of 4 bytes; the lowest free slot is taken first.
    this.usedBits = usedBitmap(initial, null, 0);
    this.slotCapacity = initial;
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
    return this.slotCapacity;
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
    while (capacity - this.used < count) capacity = grownCapacity(capacity);
    this.grow(capacity);
  }

  allocate(): number {
    if (this.freeCount === 0) this.grow(grownCapacity(this.capacity));
    const words = this.usedBits;
    let index = this.lowestFree >>> 5;
    while ((words[index] as number) === 0xffffffff) index += 1;
    const free = ~(words[index] as number);
    const bit = 31 - Math.clz32(free & -free);
    words[index] = (words[index] as number) | (1 << bit);
    const slot = (index << 5) + bit;
    this.lowestFree = slot + 1;
    this.freeCount -= 1;
    this.used += 1;
    return slot;
  }

  release(slot: number): void {
    const index = slot >>> 5;
    this.usedBits[index] = (this.usedBits[index] as number) & ~(1 << (slot & 31));
    if (slot < this.lowestFree) this.lowestFree = slot;
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
      this.usedBits.byteLength
    );
  }

  /** Bytes of the free-slot bookkeeping (the in-use bitmap). */
  freeListBytes(): number {
    return this.usedBits.byteLength;
  }

  /**
   * The capacity this pool should shrink to, or 0 to keep it: when fewer than SHRINK_BELOW of the slots are live
   * and the pool is above `minimumCapacity`, the live slots plus SHRINK_HEADROOM (rounded up to 16 slots).
   */
  shrinkTarget(minimumCapacity: number): number {
    const capacity = this.capacity;
    if (capacity <= minimumCapacity || this.used >= capacity * SHRINK_BELOW) return 0;
    const target = Math.max(minimumCapacity, roundUpSlots(Math.ceil(this.used * SHRINK_HEADROOM)));
    return target < capacity ? target : 0;
  }

  /** Copies slot `from` (codes, parameters, outliers) to slot `to`; the caller updates its index and free lists. */
  moveSlot(from: number, to: number): void {
    const { codeBytes, parameterCount, outlierCount } = this.layout;
    this.codes.copyWithin(to * codeBytes, from * codeBytes, (from + 1) * codeBytes);
    if (parameterCount > 0) this.parameters.copyWithin(to * parameterCount, from * parameterCount, (from + 1) * parameterCount);
    if (outlierCount > 0) {
      this.outlierValues.copyWithin(to * outlierCount, from * outlierCount, (from + 1) * outlierCount);
      this.outlierPositions.copyWithin(to * outlierCount, from * outlierCount, (from + 1) * outlierCount);
    }
  }

  /**
   * Moves the live slots `order[0..count)` to slots 0..count − 1, in that order (codes, parameters, outliers), and
   * frees every slot from `count` on (GroupStore.orderPools). `order` must list each live slot once. The copies go
   * through transient staging arrays of the live slots' size; no block is reallocated.
   */
  moveToFront(order: Int32Array, count: number): void {
    const { codeBytes, parameterCount, outlierCount } = this.layout;
    gatherToFront(this.codes, codeBytes, order, count);
    if (parameterCount > 0) gatherToFront(this.parameters, parameterCount, order, count);
    if (outlierCount > 0) {
      gatherToFront(this.outlierValues, outlierCount, order, count);
      gatherToFront(this.outlierPositions, outlierCount, order, count);
    }
    const words = usedBitmap(this.slotCapacity, null, 0);
    words.fill(0xffffffff, 0, count >>> 5);
    if ((count & 31) !== 0) words[count >>> 5] = (words[count >>> 5] as number) | ((1 << (count & 31)) - 1);
    this.usedBits = words;
    this.used = count;
    this.freeCount = this.slotCapacity - count;
    this.lowestFree = count;
  }

  /**
   * Shrinks to `capacity` slots. Every live slot must already be below `capacity`; `live[slot]` is 1 for the live
   * slots (length ≥ capacity). The old blocks go back to the arena, where any pool can reuse them.
   */
  shrinkTo(capacity: number, live: Uint8Array): void {
    this.reallocate(capacity);
    const words = usedBitmap(capacity, null, 0);
    let used = 0;
    for (let slot = 0; slot < capacity; slot += 1) {
      if (live[slot] !== 1) continue;
      words[slot >>> 5] = (words[slot >>> 5] as number) | (1 << (slot & 31));
      used += 1;
    }
    this.usedBits = words;
    this.slotCapacity = capacity;
    this.used = used;
    this.freeCount = capacity - used;
    this.lowestFree = 0;
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
    this.reallocate(capacity);
    this.usedBits = usedBitmap(capacity, this.usedBits, old);
    this.slotCapacity = capacity;
    this.freeCount += capacity - old;
    if (old < this.lowestFree) this.lowestFree = old;
  }

  /** Moves the data arrays to blocks of `capacity` slots, keeping the first min(old, new) slots. */
  private reallocate(capacity: number): void {
    const { codeBytes, parameterCount, outlierCount, positionBytes } = this.layout;
    const arena = this.arena;
    const kept = Math.min(capacity, this.capacity);
    // Allocate everything first (the arena may grow and replace its buffer), then copy through fresh views.
    const codes = new ArenaBlock(arena, uint8View, 1, capacity * codeBytes);
    const parameters = new ArenaBlock(arena, uint16View, 2, capacity * parameterCount);
    const outlierValues = new ArenaBlock(arena, uint16View, 2, capacity * outlierCount);
    const outlierPositions = newPositions(arena, capacity * outlierCount, positionBytes);
    codes.array.set(this.codes.subarray(0, kept * codeBytes));
    parameters.array.set(this.parameters.subarray(0, kept * parameterCount));
    outlierValues.array.set(this.outlierValues.subarray(0, kept * outlierCount));
    outlierPositions.array.set(this.outlierPositions.subarray(0, kept * outlierCount));
    this.free();
    this.codesBlock = codes;
    this.parametersBlock = parameters;
    this.outlierValuesBlock = outlierValues;
    this.outlierPositionsBlock = outlierPositions;
  }
}

/** A pool is compacted and shrunk once fewer than this share of its slots is live… */
export const SHRINK_BELOW = 0.7;
/** …to its live slots times this (rounded up to 16 slots), so the next few allocations need no growth. */
export const SHRINK_HEADROOM = 1.125;

/** The next capacity when a pool is full: a quarter more, at least 16 slots more, a multiple of 16. */
export function grownCapacity(capacity: number): number {
  return roundUpSlots(Math.max(capacity + 16, Math.ceil(capacity * 1.25)));
}

/**
 * An in-use bitmap for `capacity` slots: slots below `keep` copy their bit from `previous`, the others are free,
 * and the bits past `capacity` in the last word are set (never handed out).
 */
function usedBitmap(capacity: number, previous: Uint32Array | null, keep: number): Uint32Array {
  const words = new Uint32Array(Math.ceil(capacity / 32) + 1);
  if (previous !== null && keep > 0) {
    const whole = keep >>> 5;
    words.set(previous.subarray(0, whole));
    const rest = keep & 31;
    if (rest > 0) words[whole] = (previous[whole] as number) & ((1 << rest) - 1);
  }
  const tail = capacity & 31;
  const last = capacity >>> 5;
  words[last] = (words[last] as number) | (tail === 0 ? 0xffffffff : ~((1 << tail) - 1));
  for (let index = last + 1; index < words.length; index += 1) words[index] = 0xffffffff;
  return words;
}

/**
 * array[i·width ..] = old array[order[i]·width ..] for i < count (`width` elements per slot), through a staging copy:
 * whole 32-bit words when a slot is a multiple of 4 bytes and the array is 4-byte aligned, else elements.
 */
function gatherToFront(array: Uint8Array | Uint16Array, width: number, order: Int32Array, count: number): void {
  const slotBytes = width * array.BYTES_PER_ELEMENT;
  if (slotBytes % 4 === 0 && array.byteOffset % 4 === 0) {
    const words = new Int32Array(array.buffer, array.byteOffset, array.byteLength >>> 2);
    gatherElements(words, slotBytes >>> 2, order, count, new Int32Array((count * slotBytes) >>> 2));
  } else if (array instanceof Uint16Array) {
    gatherElements(array, width, order, count, new Uint16Array(count * width));
  } else {
    gatherElements(array, width, order, count, new Uint8Array(count * width));
  }
}

function gatherElements<T extends Int32Array | Uint16Array | Uint8Array>(array: T, width: number, order: Int32Array, count: number, staging: T): void {
  for (let index = 0; index < count; index += 1) {
    const from = (order[index] as number) * width;
    const to = index * width;
    for (let element = 0; element < width; element += 1) staging[to + element] = array[from + element] as number;
  }
  array.set(staging);
}

function roundUpSlots(slots: number): number {
  return Math.max(16, Math.ceil(slots / 16) * 16);
}

function newPositions(arena: ByteArena | null, count: number, positionBytes: number): ArenaBlock<Uint8Array | Uint16Array> {
  return positionBytes === 2
    ? new ArenaBlock<Uint8Array | Uint16Array>(arena, uint16View, 2, count)
    : new ArenaBlock<Uint8Array | Uint16Array>(arena, uint8View, 1, count);
}
