import {
  float16BitsToFloat32,
  float32ToFloat16Bits,
  FLOAT16_MAX,
  packCodes,
  quantizeAndPackGroup,
  roundDownToFloat16,
  roundUpToFloat16,
  unpackAndDequantizeGroup,
  unpackCodes,
} from '@qaq/quantization';
import { mergeOutliers, outlierCountPerSide, outlierPositionBytes, selectOutliers } from '@qaq/outliers';
import { QaqError } from '@qaq/errors';
import type { CacheAccounting } from './accounting.js';
import type { ByteReader, ByteWriter } from './byte-io.js';
import { isAllowedBits } from './validation.js';
import { grownCapacity, SlotPool } from './slot-pool.js';
import { ArenaBlock, uint16View, uint32View, uint8View, type ByteArena } from './arena.js';

/** range = step · RANGE_FACTOR[bits]: 2^B segments for packed widths; 16-bit slots store half the range. */
const RANGE_FACTOR = Float64Array.from({ length: 17 }, (_, bits) => (bits === 16 ? 2 : 2 ** bits));

/** Bit widths with a pool: 1..8 packed, 16 = fp16 passthrough. */
export const POOL_BITS: readonly number[] = Object.freeze([1, 2, 3, 4, 5, 6, 7, 8, 16]);

export interface GroupStoreOptions {
  readonly groupLength: number;
  readonly groupsPerToken: number;
  readonly outlierFraction: number;
  readonly promotionTier: boolean;
  readonly initialCapacityTokens: number;
  /** Groups at ≤ this many bits get a least-squares clipped range (KvCacheConfig.clippedRangeMaxBits; 0: never). */
  readonly clippedRangeMaxBits?: number;
  /** Where the pools and the tag and slot arrays live (default: the JS heap). The promotion tier never does. */
  readonly arena?: ByteArena | null;
}

/**
 * The groups of one kind (keys or values) of one layer. Group g (token-major: token · groupsPerToken + head)
 * lives in the pool of its bit width at a slot; `bitsOf(g)` is its bit-width tag and `slots[g]` its slot. Tags are
 * 4 bits, two per byte (group g in byte g >> 1, the low nibble for even g): the width itself for 1..8 and 0 for 16
 * (`bits & 15`; read back as ((nibble − 1) & 15) + 1), so a tag costs half a byte per group.
 * 16-bit slots hold fp16 codes and, in their two parameters, the fp16 minimum and range of the group
 * without its outliers (what the policy needs); they keep no separate outliers since fp16 is already exact.
 */
export class GroupStore {
  readonly groupLength: number;
  readonly groupsPerToken: number;
  readonly outliersPerSide: number;
  readonly outlierCount: number;
  readonly positionBytes: number;
  readonly pools: (SlotPool | undefined)[] = [];
  readonly tier: SlotPool | null;
  readonly arena: ByteArena | null;
  /** Packed 4-bit tags (see the class comment): capacityGroups / 2 bytes, rounded up. */
  private tagsBlock: ArenaBlock<Uint8Array>;
  /** Groups the tag, slot and pending arrays have room for (capacityGroups). */
  private groupCapacity: number;
  private slotsBlock: ArenaBlock<SlotIndexArray>;
  tierSlots: SlotIndexArray;
  /** Bits a group gets when it leaves the recent window. */
  pendingBits: Uint8Array;
  groupCount = 0;
  private readonly initialCapacityGroups: number;
  private readonly scratch: Float32Array;
  private readonly codeScratch: Uint8Array;
  private readonly excluded: Uint8Array;
  private readonly positions: Uint16Array;
  private readonly outlierValues: Uint16Array;
  private readonly parameters = new Float32Array(2);
  /** orderPools' next expected slot per width (0..16). */
  private readonly nextSlotScratch = new Int32Array(17);
  private readonly clippedRangeMaxBits: number;

  constructor(options: GroupStoreOptions) {
    this.groupLength = options.groupLength;
    this.groupsPerToken = options.groupsPerToken;
    this.clippedRangeMaxBits = options.clippedRangeMaxBits ?? 0;
    this.outliersPerSide = outlierCountPerSide(options.groupLength, options.outlierFraction);
    this.outlierCount = 2 * this.outliersPerSide;
    this.positionBytes = outlierPositionBytes(options.groupLength);
    this.initialCapacityGroups = Math.max(1, options.initialCapacityTokens * options.groupsPerToken);
    const capacity = this.initialCapacityGroups;
    this.arena = options.arena ?? null;
    this.groupCapacity = capacity;
    this.tagsBlock = new ArenaBlock(this.arena, uint8View, 1, tagBytes(capacity));
    this.slotsBlock = slotBlock(this.arena, 2, capacity);
    this.tierSlots = new Uint16Array(options.promotionTier ? capacity : 0);
    this.pendingBits = new Uint8Array(capacity);
    this.tier = options.promotionTier
      ? new SlotPool({ codeBytes: options.groupLength * 2, parameterCount: 0, outlierCount: 0, positionBytes: 0 }, capacity)
      : null;
    this.scratch = new Float32Array(options.groupLength);
    this.codeScratch = new Uint8Array(options.groupLength);
    this.excluded = new Uint8Array(options.groupLength);
    this.positions = new Uint16Array(Math.max(1, this.outlierCount));
    this.outlierValues = new Uint16Array(Math.max(1, this.outlierCount));
  }

  /** The packed tag bytes (a view: re-read after anything that may allocate); read a tag with bitsOf. */
  get packedTags(): Uint8Array {
    return this.tagsBlock.array;
  }

  /** Group `group`'s bit width (1..8 or 16). */
  bitsOf(group: number): number {
    return tagBits(this.tagsBlock.array, group);
  }

  /** Every live group's bit width, unpacked into `out` (at least groupCount long): tools, tests, graph inputs. */
  readTags(out: Uint8Array): Uint8Array {
    const tags = this.tagsBlock.array;
    for (let group = 0; group < this.groupCount; group += 1) out[group] = tagBits(tags, group);
    return out;
  }

  /** Every live group's bit width in a new array (tools and tests; readTags fills a caller's buffer). */
  tags(): Uint8Array {
    return this.readTags(new Uint8Array(this.groupCount));
  }

  private setBits(group: number, bits: number): void {
    const tags = this.tagsBlock.array;
    const index = group >>> 1;
    const shift = (group & 1) << 2;
    tags[index] = ((tags[index] as number) & ~(15 << shift)) | ((bits & 15) << shift);
  }

  /** Slot indices: Uint16Array while every slot index fits 16 bits, widened to Uint32Array once one does not. */
  get slots(): SlotIndexArray {
    return this.slotsBlock.array;
  }

  /** Byte offset of the tag array in the arena (no allocation, for per-step use). */
  get bitsOffset(): number {
    return this.tagsBlock.byteOffset;
  }

  get slotsOffset(): number {
    return this.slotsBlock.byteOffset;
  }

  /** 2 while slot indices are Uint16, 4 once widened. */
  get slotIndexBytes(): number {
    return this.slotsBlock.elementBytes;
  }

  /** Where a kernel finds the tag and slot arrays in the arena, and the slot index width in bytes. */
  get arenaOffsets(): { bits: number; slots: number; slotIndexBytes: number } {
    return { bits: this.tagsBlock.byteOffset, slots: this.slotsBlock.byteOffset, slotIndexBytes: this.slotsBlock.elementBytes };
  }

  /** Returns the pools and arrays to the arena; the store must not be used afterwards. */
  free(): void {
    for (const pool of this.pools) pool?.free();
    this.tagsBlock.free();
    this.slotsBlock.free();
  }

  /** Groups the tag, slot and pending arrays have room for. */
  get capacityGroups(): number {
    return this.groupCapacity;
  }

  pool(bits: number): SlotPool {
    let pool = this.pools[bits];
    if (pool === undefined) {
      const packed = bits === 16;
      pool = new SlotPool(
        {
          codeBytes: packed ? this.groupLength * 2 : Math.ceil((this.groupLength * bits) / 8),
          parameterCount: 2,
          outlierCount: packed ? 0 : this.outlierCount,
          positionBytes: packed ? 0 : this.positionBytes,
        },
        // Pools start small and double: most widths hold a fraction of the tokens.
        Math.max(1, Math.min(this.initialCapacityGroups, 16)),
        this.arena,
      );
      this.pools[bits] = pool;
    }
    return pool;
  }

  /** Grows the per-group arrays (by a quarter at a time) to hold `groupCount` groups. */
  reserveGroups(groupCount: number): void {
    if (groupCount <= this.capacityGroups) return;
    let capacity = this.capacityGroups;
    while (capacity < groupCount) capacity = grownCapacity(capacity);
    // Allocate both first (the arena may grow and replace its buffer), then copy through fresh views.
    const bits = new ArenaBlock(this.arena, uint8View, 1, tagBytes(capacity));
    const slots = slotBlock(this.arena, this.slotsBlock.elementBytes, capacity);
    bits.array.set(this.packedTags);
    slots.array.set(this.slots);
    this.tagsBlock.free();
    this.slotsBlock.free();
    const pending = new Uint8Array(capacity);
    pending.set(this.pendingBits);
    if (this.tier !== null) {
      const tierSlots = sameKind(this.tierSlots, capacity);
      tierSlots.set(this.tierSlots);
      this.tierSlots = tierSlots;
    }
    this.tagsBlock = bits;
    this.slotsBlock = slots;
    this.pendingBits = pending;
    this.groupCapacity = capacity;
  }

  /** Appends one group from source[offset…offset+groupLength) at `bits`; validated input only. */
  appendGroup(source: Float32Array, offset: number, bits: number, pendingBits: number): void {
    const group = this.groupCount;
    this.reserveGroups(group + 1);
    const pool = this.pool(bits);
    const slot = pool.allocate();
    this.encode(pool, slot, bits, source, offset);
    this.setBits(group, bits);
    this.widenSlotsFor(slot);
    this.slots[group] = slot;
    this.pendingBits[group] = pendingBits;
    if (this.tier !== null) {
      const tierSlot = this.tier.allocate();
      writeFloat16(source, offset, this.groupLength, this.tier.codes, tierSlot * this.tier.layout.codeBytes);
      this.widenTierSlotsFor(tierSlot);
      this.tierSlots[group] = tierSlot;
    }
    this.groupCount = group + 1;
  }

  /**
   * Moves a group to `bits`. The source is the fp16 tier copy when there is one. Without it, a packed group
   * demoted by k bits keeps its minimum and takes step·2^k with codes shifted right by k (nestedDemotion): the
   * 2^B segments of the quantizer are nested, so this is exactly the quantization of the original values on that
   * grid and errors do not compound. Otherwise (from fp16, or a step that would leave fp16) the group is
   * dequantized into scratch and quantized again — also when a clipped range is due (clipsFrom).
   */
  requantize(group: number, bits: number): void {
    const current = this.bitsOf(group);
    if (current === bits) return;
    if (this.tier === null && bits < current && current <= 8 && !this.clipsFrom(current, bits) && this.nestedDemotion(group, current, bits)) return;
    if (this.tier !== null) {
      const tierSlot = this.tierSlots[group] as number;
      readFloat16(this.tier.codes, tierSlot * this.tier.layout.codeBytes, this.groupLength, this.scratch, 0);
    } else {
      this.decode(group, this.scratch, 0);
    }
    const oldPool = this.pool(current);
    const newPool = this.pool(bits);
    const slot = newPool.allocate();
    this.encode(newPool, slot, bits, this.scratch, 0);
    oldPool.release(this.slots[group] as number);
    this.setBits(group, bits);
    this.widenSlotsFor(slot);
    this.slots[group] = slot;
  }

  /**
   * Whether a demotion from `current` to `bits` re-quantizes with a least-squares clipped range rather than on the
   * nested grid: the target is at most clippedRangeMaxBits and the source fine enough (≥ 5 bits or fp16) that its
   * reconstruction stands for the original values (each within range/64). From a coarse source the nested grid,
   * exact in the original values, is kept: clipping its reconstruction would add the old error to the new.
   */
  private clipsFrom(current: number, bits: number): boolean {
    return bits <= this.clippedRangeMaxBits && current >= 5;
  }

  /**
   * Demotes a packed group from `current` to `bits` in its own grid: code >> k, step·2^k, the same minimum and
   * outliers. With x in segment c of width s (|x − x̂| ≤ s/2), x lies in segment c >> k of width 2^k·s, so the
   * result is what quantizing the original values with (minimum, 2^k·s) gives — no error added by the old
   * reconstruction. 2^k·s stays fp16-exact and a multiple of the float32 alignment unit (same magnitude bound,
   * group-parameters.ts). Returns false, changing nothing, when 2^k·s would exceed the fp16 range.
   */
  private nestedDemotion(group: number, current: number, bits: number): boolean {
    const oldPool = this.pool(current);
    const oldSlot = this.slots[group] as number;
    const shift = current - bits;
    const step = float16BitsToFloat32(oldPool.parameters[oldSlot * 2 + 1] as number) * 2 ** shift;
    if (!(step <= FLOAT16_MAX)) return false;
    const length = this.groupLength;
    const codes = this.codeScratch;
    unpackCodes(oldPool.codes, oldSlot * oldPool.layout.codeBytes, length, current, codes, 0);
    for (let index = 0; index < length; index += 1) codes[index] = (codes[index] as number) >>> shift;
    const newPool = this.pool(bits);
    const slot = newPool.allocate();
    // The pools' getters give fresh views: the allocation may have grown the arena.
    packCodes(codes, 0, length, bits, newPool.codes, slot * newPool.layout.codeBytes);
    const newParameters = newPool.parameters;
    newParameters[slot * 2] = oldPool.parameters[oldSlot * 2] as number;
    newParameters[slot * 2 + 1] = float32ToFloat16Bits(step);
    const outliers = this.outlierCount;
    if (outliers > 0) {
      const sourcePositions = oldPool.outlierPositions;
      const sourceValues = oldPool.outlierValues;
      const targetPositions = newPool.outlierPositions;
      const targetValues = newPool.outlierValues;
      for (let index = 0; index < outliers; index += 1) {
        targetPositions[slot * outliers + index] = sourcePositions[oldSlot * outliers + index] as number;
        targetValues[slot * outliers + index] = sourceValues[oldSlot * outliers + index] as number;
      }
    }
    oldPool.release(oldSlot);
    this.setBits(group, bits);
    this.widenSlotsFor(slot);
    this.slots[group] = slot;
    return true;
  }

  /** Dequantizes group `group` into target[offset…offset+groupLength). */
  decode(group: number, target: Float32Array, offset: number): void {
    const bits = this.bitsOf(group);
    const slot = this.slots[group] as number;
    const pool = this.pool(bits);
    const codeOffset = slot * pool.layout.codeBytes;
    if (bits === 16) {
      readFloat16(pool.codes, codeOffset, this.groupLength, target, offset);
      return;
    }
    unpackAndDequantizeGroup(
      pool.codes,
      codeOffset,
      this.groupLength,
      bits,
      float16BitsToFloat32(pool.parameters[slot * 2] as number),
      float16BitsToFloat32(pool.parameters[slot * 2 + 1] as number),
      target,
      offset,
    );
    if (this.outlierCount > 0) {
      mergeOutliers(target, offset, 1, pool.outlierPositions, pool.outlierValues, slot * this.outlierCount, this.outlierCount);
    }
  }

  /**
   * max − min of the group without its outliers, as stored (an upper bound within fp16 rounding); for a group
   * with a clipped range (clippedRangeMaxBits) the clipped range.
   */
  range(group: number): number {
    const bits = this.bitsOf(group);
    const slot = this.slots[group] as number;
    const pool = this.pool(bits);
    const step = float16BitsToFloat32(pool.parameters[slot * 2 + 1] as number);
    return step * (RANGE_FACTOR[bits] as number);
  }

  /** Bits and range of every live group, into caller arrays (the policy's bulk read). */
  readState(bitsOut: Uint8Array, rangesOut: Float64Array): void {
    const count = this.groupCount;
    if (bitsOut.length < count || rangesOut.length < count) {
      throw new QaqError('shape-mismatch', 'output arrays are shorter than the group count', {
        details: { groups: count, bitsLength: bitsOut.length, rangesLength: rangesOut.length },
      });
    }
    const tags = this.packedTags;
    const slots = this.slots;
    for (let group = 0; group < count; group += 1) {
      const bits = tagBits(tags, group);
      const pool = this.pools[bits] as SlotPool;
      const step = float16BitsToFloat32(pool.parameters[(slots[group] as number) * 2 + 1] as number);
      bitsOut[group] = bits;
      rangesOut[group] = step * (RANGE_FACTOR[bits] as number);
    }
  }

  /**
   * Puts every pool in group order: the groups at each width take that pool's slots 0, 1, 2, … in the order of the
   * groups (tokens), and its free slots follow them. A demotion takes the lowest free slot of the narrower pool, so
   * after a few plans a pool's slots follow the history of demotions instead of the tokens, and a reader that walks
   * the tokens (the attention kernels) jumps around its pools: one layer's decode attention over 7,168 tokens took
   * about 1.7× as long with every pool's slots shuffled (the per-head path with outliers; in a real lean decode the
   * kernel's share fell from about 32 to 21–25 ms per step: packages/kv-cache/README.md, "Pools in token order").
   * Pools already in order are left alone (one pass over the tags finds them); a rewritten pool is one gather of its
   * live slots. Returns how many pools were rewritten.
   */
  orderPools(): number {
    const count = this.groupCount;
    const tags = this.packedTags;
    const slots = this.slots;
    const next = this.nextSlotScratch;
    next.fill(0);
    let disordered = 0;
    for (let group = 0; group < count; group += 1) {
      const bits = tagBits(tags, group);
      const expected = next[bits] as number;
      if ((slots[group] as number) !== expected) disordered |= 1 << bits;
      next[bits] = expected + 1;
    }
    if (disordered === 0) return 0;
    let rewritten = 0;
    for (const bits of POOL_BITS) {
      if ((disordered & (1 << bits)) === 0) continue;
      const live = next[bits] as number;
      const order = new Int32Array(live);
      let index = 0;
      for (let group = 0; group < count; group += 1) {
        if (tagBits(tags, group) !== bits) continue;
        order[index] = slots[group] as number;
        slots[group] = index;
        index += 1;
      }
      this.pool(bits).moveToFront(order, live);
      rewritten += 1;
    }
    return rewritten;
  }

  /**
   * Shrinks every pool (and the promotion tier) that holds far fewer live slots than its capacity (see
   * SlotPool.shrinkTarget): live slots at or above the new capacity move into free slots below it, then the pool
   * reallocates at the smaller size and its old blocks return to the arena for any pool to reuse. Cheap when
   * nothing qualifies (one comparison per pool); a compaction is one pass over the groups. Returns how many pools
   * were shrunk.
   */
  compactPools(): number {
    let shrunk = 0;
    for (const bits of POOL_BITS) {
      const pool = this.pools[bits];
      if (pool === undefined) continue;
      const target = pool.shrinkTarget(POOL_MINIMUM_SLOTS);
      if (target === 0) continue;
      // Fresh views each time: shrinking may grow the arena and detach older ones.
      this.compactPool(pool, target, this.packedTags, bits, this.slots);
      shrunk += 1;
    }
    const tier = this.tier;
    if (tier !== null) {
      const target = tier.shrinkTarget(POOL_MINIMUM_SLOTS);
      if (target !== 0) {
        this.compactPool(tier, target, null, 0, this.tierSlots);
        shrunk += 1;
      }
    }
    return shrunk;
  }

  /**
   * Moves the live slots of `pool` (groups whose packed tag is `bits`, or every group when `tags` is null) below
   * `target` and shrinks it. `slots` is edited in place before anything allocates.
   */
  private compactPool(pool: SlotPool, target: number, tags: Uint8Array | null, bits: number, slots: SlotIndexArray): void {
    const capacity = pool.capacity;
    const live = new Uint8Array(capacity);
    const count = this.groupCount;
    for (let group = 0; group < count; group += 1) {
      if (tags === null || tagBits(tags, group) === bits) live[slots[group] as number] = 1;
    }
    let free = 0;
    for (let group = 0; group < count; group += 1) {
      if (tags !== null && tagBits(tags, group) !== bits) continue;
      const slot = slots[group] as number;
      if (slot < target) continue;
      while (live[free] === 1) free += 1;
      pool.moveSlot(slot, free);
      live[free] = 1;
      live[slot] = 0;
      slots[group] = free;
    }
    pool.shrinkTo(target, live);
  }

  /** Drops the oldest `count` tokens' groups, freeing their slots. */
  evictOldestGroups(count: number): void {
    for (let group = 0; group < count; group += 1) {
      this.pool(this.bitsOf(group)).release(this.slots[group] as number);
      if (this.tier !== null) this.tier.release(this.tierSlots[group] as number);
    }
    // Tags move by `count` nibbles: whole bytes when count is even, else one nibble at a time.
    const remaining = this.groupCount - count;
    if ((count & 1) === 0) this.packedTags.copyWithin(0, count >>> 1, tagBytes(this.groupCount));
    else for (let group = 0; group < remaining; group += 1) this.setBits(group, this.bitsOf(group + count));
    this.slots.copyWithin(0, count, this.groupCount);
    this.pendingBits.copyWithin(0, count, this.groupCount);
    if (this.tier !== null) this.tierSlots.copyWithin(0, count, this.groupCount);
    this.groupCount -= count;
  }

  /** Serialized bytes of one group at `bits`. */
  serializedGroupBytes(bits: number): number {
    const layout = this.pool(bits).layout;
    const tierBytes = this.tier === null ? 0 : this.groupLength * 2;
    return 2 + layout.codeBytes + 4 + layout.outlierCount * (2 + layout.positionBytes) + tierBytes;
  }

  /** Writes group `group`: bits, pending bits, codes, parameters, outliers, tier copy. */
  exportGroup(group: number, writer: ByteWriter): void {
    const bits = this.bitsOf(group);
    const pool = this.pool(bits);
    const slot = this.slots[group] as number;
    const { codeBytes, outlierCount, positionBytes } = pool.layout;
    writer.u8(bits);
    writer.u8(this.pendingBits[group] as number);
    writer.raw(pool.codes.subarray(slot * codeBytes, (slot + 1) * codeBytes));
    writer.u16Array(pool.parameters, slot * 2, 2);
    writer.u16Array(pool.outlierValues, slot * outlierCount, outlierCount);
    for (let index = 0; index < outlierCount; index += 1) {
      const position = pool.outlierPositions[slot * outlierCount + index] as number;
      if (positionBytes === 2) writer.u16(position);
      else writer.u8(position);
    }
    if (this.tier !== null) {
      const tierBytes = this.tier.layout.codeBytes;
      const tierSlot = this.tierSlots[group] as number;
      writer.raw(this.tier.codes.subarray(tierSlot * tierBytes, (tierSlot + 1) * tierBytes));
    }
  }

  /** Reads one group written by exportGroup and appends it; checks every field (QaqError 'corrupt-cache'). */
  importGroup(reader: ByteReader): void {
    const corrupt = (message: string, details: Record<string, unknown>): never => {
      throw new QaqError('corrupt-cache', message, { details });
    };
    const bits = reader.u8();
    const pending = reader.u8();
    if (!isAllowedBits(bits) || !isAllowedBits(pending)) corrupt('invalid bit-width tag', { bits, pending });
    const pool = this.pool(bits);
    const { codeBytes, outlierCount, positionBytes } = pool.layout;
    const codes = reader.raw(codeBytes);
    const minimum = reader.u16();
    const step = reader.u16();
    if (!isFiniteFloat16(minimum) || !isFiniteFloat16(step) || (bits !== 16 && !(float16BitsToFloat32(step) > 0))) {
      corrupt('invalid group parameters', { minimum, step, bits });
    }
    if (bits === 16) {
      for (let index = 0; index < this.groupLength; index += 1) {
        if (!isFiniteFloat16((codes[2 * index] as number) | ((codes[2 * index + 1] as number) << 8))) corrupt('non-finite fp16 value', { index });
      }
    }
    const group = this.groupCount;
    this.reserveGroups(group + 1);
    const slot = pool.allocate();
    pool.codes.set(codes, slot * codeBytes);
    pool.parameters[slot * 2] = minimum;
    pool.parameters[slot * 2 + 1] = step;
    for (let index = 0; index < outlierCount; index += 1) {
      const value = reader.u16();
      if (!isFiniteFloat16(value)) corrupt('non-finite outlier', { value });
      pool.outlierValues[slot * outlierCount + index] = value;
    }
    for (let index = 0; index < outlierCount; index += 1) {
      const position = positionBytes === 2 ? reader.u16() : reader.u8();
      if (position >= this.groupLength) corrupt('outlier position out of range', { position });
      pool.outlierPositions[slot * outlierCount + index] = position;
    }
    this.setBits(group, bits);
    this.widenSlotsFor(slot);
    this.slots[group] = slot;
    this.pendingBits[group] = pending;
    if (this.tier !== null) {
      const tierBytes = this.tier.layout.codeBytes;
      const copy = reader.raw(tierBytes);
      for (let index = 0; index < this.groupLength; index += 1) {
        if (!isFiniteFloat16((copy[2 * index] as number) | ((copy[2 * index + 1] as number) << 8))) corrupt('non-finite tier value', { index });
      }
      const tierSlot = this.tier.allocate();
      this.tier.codes.set(copy, tierSlot * tierBytes);
      this.widenTierSlotsFor(tierSlot);
      this.tierSlots[group] = tierSlot;
    }
    this.groupCount = group + 1;
  }

  /** Adds this store's bytes to `accounting`; groups from `recentStart` on are in the recent window. */
  addAccounting(accounting: CacheAccounting, recentStart: number): void {
    const live = this.groupCount;
    for (let group = 0; group < live; group += 1) {
      const bits = this.bitsOf(group);
      const layout = this.pool(bits).layout;
      if (group >= recentStart) {
        accounting.recentWindowBytes += layout.codeBytes + 2 * layout.parameterCount;
        continue;
      }
      accounting.codeBytes += layout.codeBytes;
      accounting.minimumBytes += 2;
      accounting.scaleBytes += 2;
      accounting.outlierValueBytes += 2 * layout.outlierCount;
      accounting.outlierPositionBytes += layout.positionBytes * layout.outlierCount;
    }
    const spare = this.capacityGroups - live;
    accounting.bitWidthTagBytes += live / 2;
    accounting.slotIndexBytes += live * this.slots.BYTES_PER_ELEMENT;
    accounting.slackBytes += (this.packedTags.byteLength - live / 2) + spare * this.slots.BYTES_PER_ELEMENT;
    accounting.bookkeepingBytes += this.pendingBits.byteLength;
    for (const pool of this.pools) {
      if (pool === undefined) continue;
      accounting.slackBytes += (pool.capacity - pool.liveSlots) * pool.slotBytes;
      accounting.bookkeepingBytes += pool.freeListBytes();
    }
    if (this.tier !== null) {
      accounting.promotionTierBytes += this.tier.liveSlots * this.tier.slotBytes + live * this.tierSlots.BYTES_PER_ELEMENT;
      accounting.slackBytes += (this.tier.capacity - this.tier.liveSlots) * this.tier.slotBytes + spare * this.tierSlots.BYTES_PER_ELEMENT;
      accounting.bookkeepingBytes += this.tier.freeListBytes();
    }
    accounting.scratchBytes += this.scratch.byteLength + this.excluded.byteLength + this.positions.byteLength + this.outlierValues.byteLength + this.parameters.byteLength;
  }

  /** Sum of byteLength over every typed array this store owns (independent of the accounting above). */
  heldBytes(): number {
    let total =
      this.packedTags.byteLength +
      this.slots.byteLength +
      this.tierSlots.byteLength +
      this.pendingBits.byteLength +
      this.scratch.byteLength +
      this.excluded.byteLength +
      this.positions.byteLength +
      this.outlierValues.byteLength +
      this.parameters.byteLength;
    for (const pool of this.pools) if (pool !== undefined) total += pool.byteLength();
    if (this.tier !== null) total += this.tier.byteLength();
    return total;
  }

  private widenSlotsFor(slot: number): void {
    if (slot > 0xffff && this.slotsBlock.elementBytes === 2) {
      const wide = slotBlock(this.arena, 4, this.slotsBlock.length);
      wide.array.set(this.slots);
      this.slotsBlock.free();
      this.slotsBlock = wide;
    }
  }

  private widenTierSlotsFor(slot: number): void {
    if (slot > 0xffff && this.tierSlots instanceof Uint16Array) this.tierSlots = Uint32Array.from(this.tierSlots);
  }

  private encode(pool: SlotPool, slot: number, bits: number, source: Float32Array, offset: number): void {
    const length = this.groupLength;
    const codeOffset = slot * pool.layout.codeBytes;
    // Without an outlier store (α = 0) nothing is set aside: no selection, no exclusion mask.
    const excluded = this.outliersPerSide === 0 ? null : this.excluded;
    if (excluded !== null) {
      selectOutliers(source, offset, length, 1, this.outliersPerSide, this.positions, this.outlierValues, 0, excluded);
    }
    if (bits === 16) {
      // fp16 keeps outliers exactly; they are only set aside for the range the policy reads.
      writeFloat16(source, offset, length, pool.codes, codeOffset);
      let low = Infinity;
      let high = -Infinity;
      for (let index = 0; index < length; index += 1) {
        if (excluded !== null && excluded[index] === 1) continue;
        const value = source[offset + index] as number;
        if (value < low) low = value;
        if (value > high) high = value;
      }
      if (low === Infinity) {
        low = 0;
        high = 0;
      }
      const minimum = roundDownToFloat16(low);
      // Half the range, rounded up, so the largest fp16 range (2 · 65504) still fits an fp16.
      pool.parameters[slot * 2] = float32ToFloat16Bits(minimum);
      pool.parameters[slot * 2 + 1] = float32ToFloat16Bits(roundUpToFloat16((high - minimum) / 2));
      return;
    }
    const outlierBase = slot * this.outlierCount;
    const range = bits <= this.clippedRangeMaxBits ? 'least-squares' : 'min-max';
    quantizeAndPackGroup(source, offset, length, 1, bits, pool.codes, codeOffset, this.parameters, 0, excluded, range);
    pool.parameters[slot * 2] = float32ToFloat16Bits(this.parameters[0] as number);
    pool.parameters[slot * 2 + 1] = float32ToFloat16Bits(this.parameters[1] as number);
    if (this.outlierCount > 0) {
      // Scratch first: the pool may keep positions in one byte, selectOutliers writes Uint16.
      pool.outlierPositions.set(this.positions.subarray(0, this.outlierCount), outlierBase);
      pool.outlierValues.set(this.outlierValues.subarray(0, this.outlierCount), outlierBase);
    }
  }
}

function writeFloat16(source: Float32Array, offset: number, length: number, target: Uint8Array, byteOffset: number): void {
  for (let index = 0; index < length; index += 1) {
    const bits = float32ToFloat16Bits(source[offset + index] as number);
    target[byteOffset + 2 * index] = bits & 0xff;
    target[byteOffset + 2 * index + 1] = bits >>> 8;
  }
}

export function readFloat16(source: Uint8Array, byteOffset: number, length: number, target: Float32Array, offset: number): void {
  for (let index = 0; index < length; index += 1) {
    const bits = (source[byteOffset + 2 * index] as number) | ((source[byteOffset + 2 * index + 1] as number) << 8);
    target[offset + index] = float16BitsToFloat32(bits);
  }
}

function isFiniteFloat16(bits: number): boolean {
  return (bits & 0x7c00) !== 0x7c00;
}

type SlotIndexArray = Uint16Array | Uint32Array;

/** Bytes of packed 4-bit tags for `groups` groups. */
function tagBytes(groups: number): number {
  return (groups + 1) >>> 1;
}

/** The bit width group `group`'s packed tag holds: its nibble, 0 meaning 16. */
function tagBits(tags: Uint8Array, group: number): number {
  const nibble = ((tags[group >>> 1] as number) >>> ((group & 1) << 2)) & 15;
  return ((nibble - 1) & 15) + 1;
}

/** Pools never shrink below this many slots (what a freshly created pool starts with at most). */
const POOL_MINIMUM_SLOTS = 16;

function sameKind(array: SlotIndexArray, length: number): SlotIndexArray {
  return array instanceof Uint16Array ? new Uint16Array(length) : new Uint32Array(length);
}

function slotBlock(arena: ByteArena | null, elementBytes: number, length: number): ArenaBlock<SlotIndexArray> {
  return elementBytes === 2
    ? new ArenaBlock<SlotIndexArray>(arena, uint16View, 2, length)
    : new ArenaBlock<SlotIndexArray>(arena, uint32View, 4, length);
}
