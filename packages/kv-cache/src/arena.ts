import { QaqError } from '@qaq/errors';

/**
 * Where a cache's pools live. By default every array is its own JS ArrayBuffer; with an arena the pools and the
 * per-group tag and slot arrays are carved out of one growable buffer (a WebAssembly.Memory), so a WASM kernel can
 * read the packed cache in place. Growing the arena replaces its buffer (the old one is detached), so holders
 * re-derive their views whenever `generation` changes.
 */
export interface ByteArena {
  /** The current backing buffer. */
  readonly buffer: ArrayBuffer;
  /** Bumped every time `buffer` is replaced. */
  readonly generation: number;
  /** A 16-byte aligned block of at least `byteLength` bytes (contents unspecified); returns its byte offset. */
  allocate(byteLength: number): number;
  /** Returns a block obtained from `allocate(byteLength)`. */
  release(offset: number, byteLength: number): void;
}

/** What MemoryArena needs of a WebAssembly.Memory. */
export interface GrowableMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}

const PAGE_BYTES = 65536;
const ALIGNMENT = 16;
/** Bytes kept readable past the last block: SIMD kernels load 16 bytes at a time and may read past a group. */
const GUARD_BYTES = 64;

/**
 * A ByteArena over a WebAssembly.Memory: a bump pointer plus one address-ordered list of free ranges. A released
 * block merges with its free neighbours (and with the bump region when it ends there, lowering the pointer), and
 * an allocation takes the smallest free range that fits (best fit), so space a shrinking pool gives back serves
 * any later block of any size — pools of every bit width, layer and kind share the arena's bytes. Memory grows
 * by doubling and never shrinks (WebAssembly memories cannot), so `peakBytes` is what the process really touched.
 * The memory always extends GUARD_BYTES past the last block.
 */
export class MemoryArena implements ByteArena {
  readonly memory: GrowableMemory;
  private top: number;
  private readonly base: number;
  private peakTop: number;
  private generationCounter = 0;
  /** Free ranges below `top`, sorted by offset, never adjacent to each other (merged on release). */
  private readonly freeOffsets: number[] = [];
  private readonly freeSizes: number[] = [];
  private releasedBytes = 0;

  /** Bytes below `baseOffset` are left to the caller (for example a kernel's static data). */
  constructor(memory: GrowableMemory, baseOffset = 0) {
    this.memory = memory;
    this.top = align(baseOffset);
    this.base = this.top;
    this.peakTop = this.top;
  }

  get buffer(): ArrayBuffer {
    return this.memory.buffer;
  }

  get generation(): number {
    return this.generationCounter;
  }

  /** Bytes handed out and not released (block sizes rounded to 16). */
  get liveBytes(): number {
    return this.top - this.base - this.releasedBytes;
  }

  /** End of the bump region (free ranges at its end are given back to it). */
  get highWater(): number {
    return this.top;
  }

  /** The largest `highWater − base` ever reached: the arena bytes ever handed out, i.e. touched. */
  get peakBytes(): number {
    return this.peakTop - this.base;
  }

  /** Bytes in free ranges below the bump pointer (holes). */
  get freeBytes(): number {
    return this.releasedBytes;
  }

  /** Number of free ranges (holes), for tests and diagnostics. */
  get freeRangeCount(): number {
    return this.freeOffsets.length;
  }

  allocate(byteLength: number): number {
    if (!Number.isInteger(byteLength) || byteLength < 0) {
      throw new QaqError('invalid-argument', 'byteLength must be a non-negative integer', { details: { byteLength } });
    }
    const size = align(Math.max(byteLength, 1));
    let best = -1;
    for (let index = 0; index < this.freeSizes.length; index += 1) {
      const free = this.freeSizes[index] as number;
      if (free >= size && (best < 0 || free < (this.freeSizes[best] as number))) {
        best = index;
        if (free === size) break;
      }
    }
    if (best >= 0) {
      const offset = this.freeOffsets[best] as number;
      const rest = (this.freeSizes[best] as number) - size;
      if (rest === 0) {
        this.freeOffsets.splice(best, 1);
        this.freeSizes.splice(best, 1);
      } else {
        this.freeOffsets[best] = offset + size;
        this.freeSizes[best] = rest;
      }
      this.releasedBytes -= size;
      return offset;
    }
    const offset = this.top;
    this.ensure(offset + size + GUARD_BYTES);
    this.top = offset + size;
    if (this.top > this.peakTop) this.peakTop = this.top;
    return offset;
  }

  release(offset: number, byteLength: number): void {
    let size = align(Math.max(byteLength, 1));
    let start = offset;
    // First free range after the block.
    let low = 0;
    let high = this.freeOffsets.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.freeOffsets[middle] as number) < start) low = middle + 1;
      else high = middle;
    }
    let index = low;
    this.releasedBytes += size;
    if (index > 0 && (this.freeOffsets[index - 1] as number) + (this.freeSizes[index - 1] as number) === start) {
      index -= 1;
      start = this.freeOffsets[index] as number;
      size += this.freeSizes[index] as number;
      this.freeOffsets.splice(index, 1);
      this.freeSizes.splice(index, 1);
    }
    if (index < this.freeOffsets.length && (this.freeOffsets[index] as number) === start + size) {
      size += this.freeSizes[index] as number;
      this.freeOffsets.splice(index, 1);
      this.freeSizes.splice(index, 1);
    }
    if (start + size === this.top) {
      // The range ends at the bump pointer: give it back to the bump region.
      this.top = start;
      this.releasedBytes -= size;
      return;
    }
    this.freeOffsets.splice(index, 0, start);
    this.freeSizes.splice(index, 0, size);
  }

  /** Grows the memory (doubling) until `end` bytes fit. */
  ensure(end: number): void {
    const current = this.memory.buffer.byteLength;
    if (end <= current) return;
    let target = Math.max(current, PAGE_BYTES);
    while (target < end) target *= 2;
    try {
      this.memory.grow((target - current) / PAGE_BYTES);
    } catch (cause) {
      // wasm32 memories stop at 4 GiB (browsers often at 2 GiB); nothing was changed.
      throw new QaqError('arena-exhausted', 'the arena memory cannot grow further', { details: { current, target }, cause });
    }
    this.generationCounter += 1;
  }
}

function align(value: number): number {
  return Math.ceil(value / ALIGNMENT) * ALIGNMENT;
}

type ArenaTypedArray = Uint8Array | Uint16Array | Uint32Array | Int32Array;
type ViewFactory<T extends ArenaTypedArray> = (buffer: ArrayBuffer, byteOffset: number, length: number) => T;

export const uint8View: ViewFactory<Uint8Array> = (buffer, byteOffset, length) => new Uint8Array(buffer, byteOffset, length);
export const uint16View: ViewFactory<Uint16Array> = (buffer, byteOffset, length) => new Uint16Array(buffer, byteOffset, length);
export const uint32View: ViewFactory<Uint32Array> = (buffer, byteOffset, length) => new Uint32Array(buffer, byteOffset, length);

/**
 * One typed array held either on the JS heap (arena null) or in an arena. `array` re-derives the view after
 * the arena grew; `byteOffset` is where a kernel finds it in the arena's buffer.
 */
export class ArenaBlock<T extends ArenaTypedArray> {
  readonly length: number;
  readonly elementBytes: number;
  readonly byteOffset: number;
  private readonly arena: ByteArena | null;
  private readonly factory: ViewFactory<T>;
  private view: T;
  private generation: number;

  constructor(arena: ByteArena | null, factory: ViewFactory<T>, elementBytes: number, length: number) {
    this.arena = arena;
    this.factory = factory;
    this.length = length;
    this.elementBytes = elementBytes;
    if (arena === null) {
      this.byteOffset = 0;
      this.generation = 0;
      this.view = factory(new ArrayBuffer(length * elementBytes), 0, length);
    } else {
      this.byteOffset = arena.allocate(length * elementBytes);
      this.generation = arena.generation;
      this.view = factory(arena.buffer, this.byteOffset, length);
      this.view.fill(0);
    }
  }

  get array(): T {
    const arena = this.arena;
    if (arena !== null && arena.generation !== this.generation) {
      this.view = this.factory(arena.buffer, this.byteOffset, this.length);
      this.generation = arena.generation;
    }
    return this.view;
  }

  get byteLength(): number {
    return this.length * this.elementBytes;
  }

  /** Returns the block to its arena (a heap block is left to the garbage collector). */
  free(): void {
    if (this.arena !== null) this.arena.release(this.byteOffset, this.length * this.elementBytes);
  }
}
