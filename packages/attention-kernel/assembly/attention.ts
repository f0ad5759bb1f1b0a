// Fused dequantize-attention over the packed QAQ KV cache, one layer, WebAssembly SIMD (simd128).
// Everything is addressed by byte offsets into the one imported memory, where the cache's pools live.
// Shared by both builds: kernel.ts (one thread) and kernel-threads.ts (shared memory, token-range chunks).
// Math (per KV head, query row r, token t, head slice of D elements, group minimum m and step s):
//   q·k̂ = s·(q·codes) + (m + s/2)·Σq + Σ_outliers q_p·(v_p − k̂_p)
//   out = Σ_t p_t·s_t·codes_t + Σ_t p_t·(m_t + s_t/2) + outlier corrections
// 16-bit groups hold fp16 values and are read as they are.
import {
  unpackBlocks1,
  unpackBlocks2,
  unpackBlocks3,
  unpackBlocks4,
  unpackBlocks5,
  unpackBlocks6,
  unpackBlocks7,
  unpackBlocks8,
  unpackWords1,
  unpackWords2,
  unpackWords3,
  unpackWords4,
  unpackWords5,
  unpackWords6,
  unpackWords7,
  unpackWords8,
} from './unpack';

// Descriptor of one kind (keys or values), i32 words: tags, slots, slot index bytes, outliers per slot, position
// bytes, then per bit width 0..16 five words: codes, parameters, outlier values, outlier positions, code bytes.
const DESCRIPTOR_BITS: i32 = 0;
const DESCRIPTOR_SLOTS: i32 = 1;
const DESCRIPTOR_SLOT_BYTES: i32 = 2;
const DESCRIPTOR_OUTLIERS: i32 = 3;
const DESCRIPTOR_POSITION_BYTES: i32 = 4;
const DESCRIPTOR_POOLS: i32 = 5;
const POOL_WORDS: i32 = 5;

@inline function word(descriptor: usize, index: i32): i32 {
  return load<i32>(descriptor + (<usize>index << 2));
}

/** fp16 → f32, exact for every finite value (normal and subnormal) by rebiasing with a multiply by 2^112. */
@inline function halfToFloat(bits: u32): f32 {
  const magnitude = reinterpret<f32>((bits & 0x7fff) << 13) * reinterpret<f32>(0x77800000);
  return bits & 0x8000 ? -magnitude : magnitude;
}

/** Eight fp16 values at `source` → f32 at `target`, `count` a multiple of 8. */
@inline function unpackHalf(source: usize, count: i32, target: usize): void {
  const magnitudeMask = i32x4.splat(0x7fff);
  const signMask = i32x4.splat(0x8000);
  const rebias = f32x4.splat(reinterpret<f32>(0x77800000));
  for (let index = 0; index < count; index += 8) {
    const halves = v128.load(source);
    const low = i32x4.extend_low_i16x8_u(halves);
    const high = i32x4.extend_high_i16x8_u(halves);
    const lowValue = f32x4.mul(i32x4.shl(v128.and(low, magnitudeMask), 13), rebias);
    const highValue = f32x4.mul(i32x4.shl(v128.and(high, magnitudeMask), 13), rebias);
    v128.store(target, v128.or(lowValue, i32x4.shl(v128.and(low, signMask), 16)));
    v128.store(target, v128.or(highValue, i32x4.shl(v128.and(high, signMask), 16)), 16);
    source += 16;
    target += 32;
  }
}

/** 8-bit codes, 16 per step by widening (count a multiple of 8). */
@inline function unpackBytes(source: usize, count: i32, target: usize): void {
  let index = 0;
  for (; index + 16 <= count; index += 16) {
    const bytes = v128.load(source);
    const low = i16x8.extend_low_i8x16_u(bytes);
    const high = i16x8.extend_high_i8x16_u(bytes);
    v128.store(target, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(low)));
    v128.store(target, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(low)), 16);
    v128.store(target, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(high)), 32);
    v128.store(target, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(high)), 48);
    source += 16;
    target += 64;
  }
  if (index < count) unpackBlocks8(source, count - index, target);
}

/** 4-bit codes, 16 per step: split nibbles, interleave, widen (count a multiple of 8). */
@inline function unpackNibbles(source: usize, count: i32, target: usize): void {
  const nibble = i8x16.splat(0x0f);
  let index = 0;
  for (; index + 16 <= count; index += 16) {
    const bytes = v128.load64_zero(source);
    const low = v128.and(bytes, nibble);
    const high = i8x16.shr_u(bytes, 4);
    const codes = i8x16.shuffle(low, high, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const codesLow = i16x8.extend_low_i8x16_u(codes);
    const codesHigh = i16x8.extend_high_i8x16_u(codes);
    v128.store(target, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(codesLow)));
    v128.store(target, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(codesLow)), 16);
    v128.store(target, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(codesHigh)), 32);
    v128.store(target, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(codesHigh)), 48);
    source += 8;
    target += 64;
  }
  if (index < count) unpackBlocks4(source, count - index, target);
}

/** Unpacks `count` codes of width `bits` (1..8 or 16) at `source` into f32 at `target`. */
function unpackSlice(bits: i32, source: usize, count: i32, target: usize): void {
  switch (bits) {
    case 1: unpackBlocks1(source, count, target); break;
    case 2: unpackBlocks2(source, count, target); break;
    case 3: unpackBlocks3(source, count, target); break;
    case 4: unpackNibbles(source, count, target); break;
    case 5: unpackBlocks5(source, count, target); break;
    case 6: unpackBlocks6(source, count, target); break;
    case 7: unpackBlocks7(source, count, target); break;
    case 8: unpackBytes(source, count, target); break;
    default: unpackHalf(source, count, target); break;
  }
}

/** 8-bit codes to u16, 16 per step by widening (count a multiple of 8). */
@inline function unpackByteWords(source: usize, count: i32, target: usize): void {
  let index = 0;
  for (; index + 16 <= count; index += 16) {
    const bytes = v128.load(source);
    v128.store(target, i16x8.extend_low_i8x16_u(bytes));
    v128.store(target, i16x8.extend_high_i8x16_u(bytes), 16);
    source += 16;
    target += 32;
  }
  if (index < count) unpackWords8(source, count - index, target);
}

/** 4-bit codes to u16, 16 per step: split nibbles, interleave, widen (count a multiple of 8). */
@inline function unpackNibbleWords(source: usize, count: i32, target: usize): void {
  const nibble = i8x16.splat(0x0f);
  let index = 0;
  for (; index + 16 <= count; index += 16) {
    const bytes = v128.load64_zero(source);
    const codes = i8x16.shuffle(v128.and(bytes, nibble), i8x16.shr_u(bytes, 4), 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    v128.store(target, i16x8.extend_low_i8x16_u(codes));
    v128.store(target, i16x8.extend_high_i8x16_u(codes), 16);
    source += 8;
    target += 32;
  }
  if (index < count) unpackWords4(source, count - index, target);
}

/** Unpacks `count` codes of width `bits` (1..8) at `source` into u16 at `target`. */
function unpackSliceWords(bits: i32, source: usize, count: i32, target: usize): void {
  switch (bits) {
    case 1: unpackWords1(source, count, target); break;
    case 2: unpackWords2(source, count, target); break;
    case 3: unpackWords3(source, count, target); break;
    case 4: unpackNibbleWords(source, count, target); break;
    case 5: unpackWords5(source, count, target); break;
    case 6: unpackWords6(source, count, target); break;
    case 7: unpackWords7(source, count, target); break;
    default: unpackByteWords(source, count, target); break;
  }
}

// The group slice last loaded by loadSlice.
let sliceBits: i32 = 0;
let sliceMinimum: f32 = 0;
let sliceStep: f32 = 0;
let sliceOutlierValues: usize = 0;
let sliceOutlierPositions: usize = 0;

/**
 * Locates group `group`: records its width, and unless 16-bit its fp16 minimum and step and its outliers' addresses,
 * and returns the address of its codes.
 */
@inline function locateGroup(descriptor: usize, group: i32): usize {
  // Tags are 4 bits, two per byte (GroupStore): the width for 1..8, 0 for 16.
  const nibble = (<i32>load<u8>(<usize>word(descriptor, DESCRIPTOR_BITS) + (<usize>group >> 1)) >> ((group & 1) << 2)) & 15;
  const bits = ((nibble - 1) & 15) + 1;
  const slots = <usize>word(descriptor, DESCRIPTOR_SLOTS);
  const slot = word(descriptor, DESCRIPTOR_SLOT_BYTES) == 2 ? <i32>load<u16>(slots + (<usize>group << 1)) : load<i32>(slots + (<usize>group << 2));
  const pool = DESCRIPTOR_POOLS + bits * POOL_WORDS;
  sliceBits = bits;
  if (bits != 16) {
    const parameters = <usize>word(descriptor, pool + 1) + (<usize>slot << 2);
    sliceMinimum = halfToFloat(load<u16>(parameters));
    sliceStep = halfToFloat(load<u16>(parameters, 2));
    const outliers = word(descriptor, DESCRIPTOR_OUTLIERS);
    sliceOutlierValues = <usize>word(descriptor, pool + 2) + <usize>(slot * outliers * 2);
    sliceOutlierPositions = <usize>word(descriptor, pool + 3) + <usize>(slot * outliers * word(descriptor, DESCRIPTOR_POSITION_BYTES));
  }
  return <usize>word(descriptor, pool) + <usize>(slot * word(descriptor, pool + 4));
}

/**
 * Unpacks group `group`'s D elements from `elementOffset` and records its parameters (locateGroup): fp16 values
 * always, and codes too, as f32 into `buffer`, or as u16 into `words` when `words` is not 0.
 */
@inline function loadSlice(descriptor: usize, group: i32, elementOffset: i32, headDim: i32, buffer: usize, words: usize): void {
  const groupCodes = locateGroup(descriptor, group);
  const bits = sliceBits;
  const codes = groupCodes + <usize>((elementOffset * bits) >> 3);
  if (words != 0 && bits != 16) unpackSliceWords(bits, codes, headDim, words);
  else unpackSlice(bits, codes, headDim, buffer);
}

@inline function horizontalSum(vector: v128): f32 {
  return f32x4.extract_lane(vector, 0) + f32x4.extract_lane(vector, 1) + (f32x4.extract_lane(vector, 2) + f32x4.extract_lane(vector, 3));
}

// Row-blocked products: up to four query rows share each load of the unpacked slice (GQA decode has 3 or 4).

/** products[k] = Σ rows[k]·slice over `count` f32 (a multiple of 4), for k < 4. */
@inline function dot4(slice: usize, count: i32, q0: usize, q1: usize, q2: usize, q3: usize, products: usize): void {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  let a3 = f32x4.splat(0);
  for (let index = 0; index < count; index += 4) {
    const offset = <usize>index << 2;
    const codes = v128.load(slice + offset);
    a0 = f32x4.add(a0, f32x4.mul(v128.load(q0 + offset), codes));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(q1 + offset), codes));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(q2 + offset), codes));
    a3 = f32x4.add(a3, f32x4.mul(v128.load(q3 + offset), codes));
  }
  store<f32>(products, horizontalSum(a0));
  store<f32>(products, horizontalSum(a1), 4);
  store<f32>(products, horizontalSum(a2), 8);
  store<f32>(products, horizontalSum(a3), 12);
}

@inline function dot3(slice: usize, count: i32, q0: usize, q1: usize, q2: usize, products: usize): void {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  let a2 = f32x4.splat(0);
  for (let index = 0; index < count; index += 4) {
    const offset = <usize>index << 2;
    const codes = v128.load(slice + offset);
    a0 = f32x4.add(a0, f32x4.mul(v128.load(q0 + offset), codes));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(q1 + offset), codes));
    a2 = f32x4.add(a2, f32x4.mul(v128.load(q2 + offset), codes));
  }
  store<f32>(products, horizontalSum(a0));
  store<f32>(products, horizontalSum(a1), 4);
  store<f32>(products, horizontalSum(a2), 8);
}

@inline function dot2(slice: usize, count: i32, q0: usize, q1: usize, products: usize): void {
  let a0 = f32x4.splat(0);
  let a1 = f32x4.splat(0);
  for (let index = 0; index < count; index += 4) {
    const offset = <usize>index << 2;
    const codes = v128.load(slice + offset);
    a0 = f32x4.add(a0, f32x4.mul(v128.load(q0 + offset), codes));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(q1 + offset), codes));
  }
  store<f32>(products, horizontalSum(a0));
  store<f32>(products, horizontalSum(a1), 4);
}

// Integer score products: a query row is split as q ≈ scale·(high + low/32768) with 16-bit high and low parts
// (row layout: D high words then D low words), so q·codes = scale·(Σ high·c + Σ low·c / 32768) with exact i32
// sums from i32x4.dot_i16x8_s (eight multiply-adds per instruction). |high|, |low| ≤ 16384 and codes ≤ 255 keep
// every i32 sum exact for D ≤ 512 (D · 16384 · 255 < 2^31).

/** [Σa, Σb, Σc, Σd] of four i32x4 vectors (a transpose by shuffles, then adds). */
@inline function reduceFour(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(i32x4.shuffle(a, b, 0, 1, 4, 5), i32x4.shuffle(a, b, 2, 3, 6, 7));
  const cd = i32x4.add(i32x4.shuffle(c, d, 0, 1, 4, 5), i32x4.shuffle(c, d, 2, 3, 6, 7));
  return i32x4.add(i32x4.shuffle(ab, cd, 0, 2, 4, 6), i32x4.shuffle(ab, cd, 1, 3, 5, 7));
}

/**
 * Products of up to four rows (row r at rows + r·rowStride, high then low words) with the codes, as f32x4. With a
 * literal `withLow` false only the high words enter (AttentionOptions.fastScores: the query rounded to 16 bits).
 */
@inline function dotWordsBlock(codes: usize, count: i32, rows: usize, rowStride: usize, rowCount: i32, withLow: bool): v128 {
  const lowOffset = <usize>count << 1;
  const r1 = rows + rowStride;
  const r2 = r1 + rowStride;
  const r3 = r2 + rowStride;
  let h0 = i32x4.splat(0);
  let l0 = i32x4.splat(0);
  let h1 = i32x4.splat(0);
  let l1 = i32x4.splat(0);
  let h2 = i32x4.splat(0);
  let l2 = i32x4.splat(0);
  let h3 = i32x4.splat(0);
  let l3 = i32x4.splat(0);
  for (let index = 0; index < count; index += 8) {
    const offset = <usize>index << 1;
    const c = v128.load(codes + offset);
    h0 = i32x4.add(h0, i32x4.dot_i16x8_s(v128.load(rows + offset), c));
    h1 = i32x4.add(h1, i32x4.dot_i16x8_s(v128.load(r1 + offset), c));
    h2 = i32x4.add(h2, i32x4.dot_i16x8_s(v128.load(r2 + offset), c));
    if (rowCount > 3) h3 = i32x4.add(h3, i32x4.dot_i16x8_s(v128.load(r3 + offset), c));
    if (withLow) {
      l0 = i32x4.add(l0, i32x4.dot_i16x8_s(v128.load(rows + lowOffset + offset), c));
      l1 = i32x4.add(l1, i32x4.dot_i16x8_s(v128.load(r1 + lowOffset + offset), c));
      l2 = i32x4.add(l2, i32x4.dot_i16x8_s(v128.load(r2 + lowOffset + offset), c));
      if (rowCount > 3) l3 = i32x4.add(l3, i32x4.dot_i16x8_s(v128.load(r3 + lowOffset + offset), c));
    }
  }
  const high = f32x4.convert_i32x4_s(reduceFour(h0, h1, h2, h3));
  if (!withLow) return high;
  const low = f32x4.convert_i32x4_s(reduceFour(l0, l1, l2, l3));
  return f32x4.add(high, f32x4.mul(low, f32x4.splat(<f32>1.0 / 32768.0)));
}

/** dotWordsBlock for 3 or 4 rows, exact or with the high words only. */
@inline function dotWordsRows(codes: usize, count: i32, rows: usize, rowStride: usize, rowCount: i32, fastScores: bool): v128 {
  if (fastScores) {
    return rowCount == 4 ? dotWordsBlock(codes, count, rows, rowStride, 4, false) : dotWordsBlock(codes, count, rows, rowStride, 3, false);
  }
  return rowCount == 4 ? dotWordsBlock(codes, count, rows, rowStride, 4, true) : dotWordsBlock(codes, count, rows, rowStride, 3, true);
}

@inline function horizontalSumInt(vector: v128): f32 {
  return <f32>(i32x4.extract_lane(vector, 0) + i32x4.extract_lane(vector, 1) + i32x4.extract_lane(vector, 2) + i32x4.extract_lane(vector, 3));
}

@inline function finishWords(high: v128, low: v128): f32 {
  return horizontalSumInt(high) + horizontalSumInt(low) * (<f32>1.0 / 32768.0);
}

/** One row's product with the codes; with `fastScores` the high words only. */
@inline function dotWords(codes: usize, count: i32, row: usize, fastScores: bool): f32 {
  const lowOffset = <usize>count << 1;
  let high = i32x4.splat(0);
  let low = i32x4.splat(0);
  for (let index = 0; index < count; index += 8) {
    const offset = <usize>index << 1;
    const c = v128.load(codes + offset);
    high = i32x4.add(high, i32x4.dot_i16x8_s(v128.load(row + offset), c));
    if (!fastScores) low = i32x4.add(low, i32x4.dot_i16x8_s(v128.load(row + lowOffset + offset), c));
  }
  return finishWords(high, low);
}

@inline function dot(a: usize, b: usize, count: i32): f32 {
  let even = f32x4.splat(0);
  let odd = f32x4.splat(0);
  for (let index = 0; index < count; index += 8) {
    const offset = <usize>index << 2;
    even = f32x4.add(even, f32x4.mul(v128.load(a + offset), v128.load(b + offset)));
    odd = f32x4.add(odd, f32x4.mul(v128.load(a + offset, 16), v128.load(b + offset, 16)));
  }
  return horizontalSum(f32x4.add(even, odd));
}

/**
 * Four tokens at once into up to four rows: accumulator_r += Σ_k weight(k, r) · slice_k, so each accumulator is
 * loaded and stored once per four tokens. Slices are `sliceStride` bytes apart, rows `rowStride`, and
 * weight(k, r) is at weights + k·weightStride + 4r. With a literal rowCount the unused rows fold away.
 */
@inline function accumulateFourTokens(
  slices: usize, sliceStride: usize, count: i32, accumulator: usize, rowStride: usize, weights: usize, weightStride: usize, rowCount: i32,
): void {
  const s1 = slices + sliceStride;
  const s2 = s1 + sliceStride;
  const s3 = s2 + sliceStride;
  const k1 = weights + weightStride;
  const k2 = k1 + weightStride;
  const k3 = k2 + weightStride;
  const w00 = f32x4.splat(load<f32>(weights));
  const w10 = f32x4.splat(load<f32>(k1));
  const w20 = f32x4.splat(load<f32>(k2));
  const w30 = f32x4.splat(load<f32>(k3));
  const w01 = f32x4.splat(rowCount > 1 ? load<f32>(weights, 4) : 0);
  const w11 = f32x4.splat(rowCount > 1 ? load<f32>(k1, 4) : 0);
  const w21 = f32x4.splat(rowCount > 1 ? load<f32>(k2, 4) : 0);
  const w31 = f32x4.splat(rowCount > 1 ? load<f32>(k3, 4) : 0);
  const w02 = f32x4.splat(rowCount > 2 ? load<f32>(weights, 8) : 0);
  const w12 = f32x4.splat(rowCount > 2 ? load<f32>(k1, 8) : 0);
  const w22 = f32x4.splat(rowCount > 2 ? load<f32>(k2, 8) : 0);
  const w32 = f32x4.splat(rowCount > 2 ? load<f32>(k3, 8) : 0);
  const w03 = f32x4.splat(rowCount > 3 ? load<f32>(weights, 12) : 0);
  const w13 = f32x4.splat(rowCount > 3 ? load<f32>(k1, 12) : 0);
  const w23 = f32x4.splat(rowCount > 3 ? load<f32>(k2, 12) : 0);
  const w33 = f32x4.splat(rowCount > 3 ? load<f32>(k3, 12) : 0);
  const a1 = accumulator + rowStride;
  const a2 = a1 + rowStride;
  const a3 = a2 + rowStride;
  for (let index = 0; index < count; index += 4) {
    const offset = <usize>index << 2;
    const c0 = v128.load(slices + offset);
    const c1 = v128.load(s1 + offset);
    const c2 = v128.load(s2 + offset);
    const c3 = v128.load(s3 + offset);
    v128.store(accumulator + offset, f32x4.add(v128.load(accumulator + offset),
      f32x4.add(f32x4.add(f32x4.mul(w00, c0), f32x4.mul(w10, c1)), f32x4.add(f32x4.mul(w20, c2), f32x4.mul(w30, c3)))));
    if (rowCount > 1) {
      v128.store(a1 + offset, f32x4.add(v128.load(a1 + offset),
        f32x4.add(f32x4.add(f32x4.mul(w01, c0), f32x4.mul(w11, c1)), f32x4.add(f32x4.mul(w21, c2), f32x4.mul(w31, c3)))));
    }
    if (rowCount > 2) {
      v128.store(a2 + offset, f32x4.add(v128.load(a2 + offset),
        f32x4.add(f32x4.add(f32x4.mul(w02, c0), f32x4.mul(w12, c1)), f32x4.add(f32x4.mul(w22, c2), f32x4.mul(w32, c3)))));
    }
    if (rowCount > 3) {
      v128.store(a3 + offset, f32x4.add(v128.load(a3 + offset),
        f32x4.add(f32x4.add(f32x4.mul(w03, c0), f32x4.mul(w13, c1)), f32x4.add(f32x4.mul(w23, c2), f32x4.mul(w33, c3)))));
    }
  }
}

/** accumulator_k += weight_k · slice over `count` f32 (a multiple of 4), four rows `stride` bytes apart. */
@inline function axpy4(slice: usize, count: i32, accumulator: usize, stride: usize, w0: f32, w1: f32, w2: f32, w3: f32): void {
  const f0 = f32x4.splat(w0);
  const f1 = f32x4.splat(w1);
  const f2 = f32x4.splat(w2);
  const f3 = f32x4.splat(w3);
  const r1 = accumulator + stride;
  const r2 = r1 + stride;
  const r3 = r2 + stride;
  for (let index = 0; index < count; index += 4) {
    const offset = <usize>index << 2;
    const codes = v128.load(slice + offset);
    v128.store(accumulator + offset, f32x4.add(v128.load(accumulator + offset), f32x4.mul(f0, codes)));
    v128.store(r1 + offset, f32x4.add(v128.load(r1 + offset), f32x4.mul(f1, codes)));
    v128.store(r2 + offset, f32x4.add(v128.load(r2 + offset), f32x4.mul(f2, codes)));
    v128.store(r3 + offset, f32x4.add(v128.load(r3 + offset), f32x4.mul(f3, codes)));
  }
}

@inline function axpy1(slice: usize, count: i32, accumulator: usize, w0: f32): void {
  const f0 = f32x4.splat(w0);
  for (let index = 0; index < count; index += 4) {
    const offset = <usize>index << 2;
    v128.store(accumulator + offset, f32x4.add(v128.load(accumulator + offset), f32x4.mul(f0, v128.load(slice + offset))));
  }
}

/** totals (f64) += accumulators (f32), then zeroes the accumulators; `lanes` a multiple of 4. */
function flushAccumulators(accumulators: usize, totals: usize, lanes: i32): void {
  for (let index = 0; index < lanes; index += 4) {
    const source = accumulators + (<usize>index << 2);
    const target = totals + (<usize>index << 3);
    const values = v128.load(source);
    v128.store(target, f64x2.add(v128.load(target), f64x2.promote_low_f32x4(values)));
    v128.store(target, f64x2.add(v128.load(target, 16), f64x2.promote_low_f32x4(i32x4.shuffle(values, values, 2, 3, 0, 1))), 16);
    v128.store(source, i32x4.splat(0));
  }
}

/** e^x for x ≤ 0 lane-wise (Cephes expf polynomial on x − n·ln2, then scaled by 2^n); a few ulp. */
@inline function exp4(x: v128): v128 {
  const clamped = f32x4.max(x, f32x4.splat(-87.0));
  const n = f32x4.nearest(f32x4.mul(clamped, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(clamped, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1.0));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

// A decode step's value pass may skip tokens whose probability is negligible for every row of their KV head
// (AttentionOptions.negligibleProbability, τ): the output then lacks Σ_skipped p·v, at most τ·|v|max per skipped token.
// The wrapper passes τ only for one query position (validate-attention.ts, negligibleProbabilityFor); the scratch
// keeps one threshold per row for at most this many rows.
const MAXIMUM_SKIPPING_ROWS: i32 = 8;

// attendRange's phases. A split decode step that skips negligible tokens runs every chunk's scores first, then the
// call's normalisers (normalizeParts), then every chunk's values, so each chunk judges by the call's probabilities.
export const PHASE_BOTH: i32 = 0;
export const PHASE_SCORES: i32 = 1;
export const PHASE_VALUES: i32 = 2;

/**
 * After phase 1 of a split call: per KV head and row, M = max_c m_c and Z = Σ_c sum_c·e^(m_c − M) over the chunks'
 * records, as two f64 at normalizers + (kvHead·rows + row)·16.
 */
export function normalizeParts(chunkCount: i32, chunkStride: usize, partials: usize, kvHeads: i32, rows: i32, headDim: i32, normalizers: usize): void {
  const recordBytes = <usize>(headDim + 2) << 3;
  for (let index = 0; index < kvHeads * rows; index += 1) {
    const records = partials + recordBytes * <usize>index;
    const maximum = chunkMaximum(records, chunkStride, chunkCount);
    store<f64>(normalizers + (<usize>index << 4), maximum);
    store<f64>(normalizers + (<usize>index << 4), chunkScales(records, chunkStride, chunkCount, maximum, 0), 8);
  }
}

/** M = max_c m_c over one row's chunk records (m at each record's start). */
@inline function chunkMaximum(records: usize, chunkStride: usize, chunkCount: i32): f64 {
  let maximum: f64 = -Infinity;
  for (let chunk = 0; chunk < chunkCount; chunk += 1) maximum = max(maximum, load<f64>(records + chunkStride * <usize>chunk));
  return maximum;
}

/**
 * Z = Σ_c sum_c·e^(m_c − M) over one row's chunk records (a chunk with sum 0 saw none of the row's tokens); with
 * `coefficients` not 0 each chunk's e^(m_c − M) (0 for an empty chunk) is stored there as f64.
 */
@inline function chunkScales(records: usize, chunkStride: usize, chunkCount: i32, maximum: f64, coefficients: usize): f64 {
  let total: f64 = 0;
  for (let chunk = 0; chunk < chunkCount; chunk += 1) {
    const record = records + chunkStride * <usize>chunk;
    const sum = load<f64>(record, 8);
    const scale: f64 = sum > 0 ? Math.exp(load<f64>(record) - maximum) : 0;
    if (coefficients != 0) store<f64>(coefficients + (<usize>chunk << 3), scale);
    total += sum * scale;
  }
  return total;
}

/** Writes low..high − 1 to `kept` (i32); returns the count. */
function keepAll(low: i32, high: i32, kept: usize): i32 {
  for (let token = low; token < high; token += 1) store<i32>(kept + (<usize>(token - low) << 2), token);
  return high - low;
}

/**
 * A row's result from its f64 totals (D code lanes, then the bias lane at D): total + bias per element, as f64 into a
 * chunk's partial record (`toPartial`) or as f32 into the output.
 */
@inline function finishRow(total: usize, headDim: i32, target: usize, toPartial: bool): void {
  const bias = load<f64>(total + (<usize>headDim << 3));
  for (let index = 0; index < headDim; index += 1) {
    const value = load<f64>(total + (<usize>index << 3)) + bias;
    if (toPartial) store<f64>(target + (<usize>index << 3), value);
    else store<f32>(target + (<usize>index << 2), <f32>value);
  }
}

/**
 * The bar row `record` (kvHead·rows + row) of a decode step's value pass holds its tokens to: τ on probabilities, or
 * in a chunk of a split call w = exp(score − m) ≥ τ·Z·e^(M − m) (see keepNonNegligible); ∞ for a chunk's row that
 * sees none of its tokens (its score slots are stale).
 */
@inline function rowThreshold(negligibleProbability: f32, partials: usize, partialRecordBytes: usize, normalizers: usize, record: i32): f32 {
  if (partials == 0) return negligibleProbability;
  const partial = partials + partialRecordBytes * <usize>record;
  const sum = load<f64>(partial, 8);
  if (sum <= 0) return Infinity;
  const normalizer = normalizers + (<usize>record << 4);
  return <f32>(<f64>negligibleProbability * load<f64>(normalizer, 8) * Math.exp(load<f64>(normalizer) - load<f64>(partial)));
}

/**
 * Of four consecutive tokens (`scores`: the first token's weight in row 0, rows `rowStride` bytes apart), a 4-bit
 * mask of those some row weighs at or above its threshold (`thresholds`: one f32 per row).
 */
@inline function lanesAtOrAbove(scores: usize, rowStride: usize, rows: i32, thresholds: usize): i32 {
  let keep = i32x4.splat(0);
  for (let row = 0; row < rows; row += 1) {
    keep = v128.or(keep, f32x4.ge(v128.load(scores + rowStride * <usize>row), f32x4.splat(load<f32>(thresholds + (<usize>row << 2)))));
  }
  return i32x4.bitmask(keep);
}

/**
 * Writes to `kept` the tokens in [low, high) that some row sees with probability ≥ τ; returns the count. Rows hold
 * probabilities, or in a chunk of a split call (phase 2 only) w = exp(score − m) with m in its partial record and the
 * call's normalisers M and Z = Σ_c sum_c·e^(m_c − M) per row, where the bar is w ≥ τ·Z·e^(M − m): exactly p ≥ τ.
 * `thresholds` has room for MAXIMUM_SKIPPING_ROWS f32.
 */
function keepNonNegligible(
  scores: usize, paddedTokens: i32, rows: i32, firsts: usize, lasts: usize, low: i32, high: i32,
  partials: usize, partialRecordBytes: usize, kvHead: i32, negligibleProbability: f32, normalizers: usize, thresholds: usize, kept: usize,
): i32 {
  for (let row = 0; row < rows; row += 1) {
    store<f32>(thresholds + (<usize>row << 2), rowThreshold(negligibleProbability, partials, partialRecordBytes, normalizers, kvHead * rows + row));
  }
  let count = 0;
  let token = low;
  if (load<i32>(firsts) == load<i32>(firsts + (<usize>(rows - 1) << 2)) && load<i32>(lasts) == load<i32>(lasts + (<usize>(rows - 1) << 2))) {
    // One query position (decode): every row sees [first, last], so four tokens are judged at once.
    const from = max(low, load<i32>(firsts));
    const to = min(high - 1, load<i32>(lasts));
    token = from;
    for (; token + 4 <= to + 1; token += 4) {
      let lanes = lanesAtOrAbove(scores + (<usize>token << 2), <usize>paddedTokens << 2, rows, thresholds);
      while (lanes != 0) {
        store<i32>(kept + (<usize>count << 2), token + <i32>ctz(lanes));
        count += 1;
        lanes &= lanes - 1;
      }
    }
    low = token;
    high = to + 1;
  }
  for (token = low; token < high; token += 1) {
    let keep = false;
    for (let row = 0; row < rows && !keep; row += 1) {
      if (token < load<i32>(firsts + (<usize>row << 2)) || token > load<i32>(lasts + (<usize>row << 2))) continue;
      keep = load<f32>(scores + (<usize>(row * paddedTokens + token) << 2)) >= load<f32>(thresholds + (<usize>row << 2));
    }
    if (!keep) continue;
    store<i32>(kept + (<usize>count << 2), token);
    count += 1;
  }
  return count;
}

/**
 * A query row's sum Σq (at `sum`), its scale σ (at `scale`) and its 16-bit high and low parts for the integer
 * products (D high words then D low words at `rowWords`; see dotWordsBlock).
 */
@inline function prepareQueryRow(query: usize, headDim: i32, sum: usize, scale: usize, rowWords: usize): void {
  let total = f32x4.splat(0);
  for (let index = 0; index < headDim; index += 4) total = f32x4.add(total, v128.load(query + (<usize>index << 2)));
  store<f32>(sum, horizontalSum(total));
  let largest: f64 = 0;
  for (let index = 0; index < headDim; index += 1) largest = max(largest, abs(<f64>load<f32>(query + (<usize>index << 2))));
  const rowScale: f64 = largest > 0 ? largest / 16383.0 : 1.0;
  store<f32>(scale, <f32>rowScale);
  const inverse = 1.0 / <f64>(<f32>rowScale);
  for (let index = 0; index < headDim; index += 1) {
    const scaled = <f64>load<f32>(query + (<usize>index << 2)) * inverse;
    const high = nearest(scaled);
    store<i16>(rowWords + (<usize>index << 1), <i16>high);
    store<i16>(rowWords + (<usize>(headDim + index) << 1), <i16>nearest((scaled - high) * 32768.0));
  }
}

/**
 * Decode scores of every KV head in one pass over tokens [from, to], for groups that span all KV heads (the
 * token-layer layout): each group is located and unpacked once, then each head's rows (3 or 4: one query position)
 * take their products from its D-element slice. Per head and token this is what attendRange's fast path computes,
 * but the per-head loop located and unpacked every group once per KV head. No key outliers (every preset keeps
 * none; attendRange uses the per-head loop otherwise). Head h's row r lands at scores + h·headStride + r·rowStride.
 */
function scoreAllHeads(
  keyDescriptor: usize, queries: usize, queryHeads: i32, kvHeads: i32, headDim: i32, rows: i32, from: i32, to: i32,
  scoreScale: f32, buffer: usize, words: usize, headWords: usize, headScales: usize, headSums: usize,
  scores: usize, headStride: usize, rowStride: usize, products: usize, fastScores: bool,
): void {
  const rowBytes = <usize>headDim << 2;
  const wordRow = <usize>headDim << 2;
  const headWordBytes = <usize>(rows * headDim) << 2;
  for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
    for (let row = 0; row < rows; row += 1) {
      const at = kvHead * rows + row;
      prepareQueryRow(queries + rowBytes * <usize>(kvHead * rows + row), headDim, headSums + (<usize>at << 2), headScales + (<usize>at << 2), headWords + headWordBytes * <usize>kvHead + wordRow * <usize>row);
    }
  }
  const groupDim = kvHeads * headDim;
  const lanes = f32x4.splat(scoreScale);
  for (let token = from; token <= to; token += 1) {
    loadSlice(keyDescriptor, token, 0, groupDim, buffer, words);
    const target = scores + (<usize>token << 2);
    if (sliceBits != 16) {
      const step = f32x4.splat(sliceStep);
      const offset = f32x4.splat(sliceMinimum + 0.5 * sliceStep);
      for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
        const codes = words + (<usize>(kvHead * headDim) << 1);
        const table = headWords + headWordBytes * <usize>kvHead;
        const sums = dotWordsRows(codes, headDim, table, wordRow, rows, fastScores);
        const at = <usize>(kvHead * rows) << 2;
        const vector = f32x4.mul(f32x4.add(
          f32x4.mul(f32x4.mul(sums, v128.load(headScales + at)), step),
          f32x4.mul(v128.load(headSums + at), offset),
        ), lanes);
        const headTarget = target + headStride * <usize>kvHead;
        store<f32>(headTarget, f32x4.extract_lane(vector, 0));
        store<f32>(headTarget + rowStride, f32x4.extract_lane(vector, 1));
        store<f32>(headTarget + 2 * rowStride, f32x4.extract_lane(vector, 2));
        if (rows == 4) store<f32>(headTarget + 3 * rowStride, f32x4.extract_lane(vector, 3));
      }
      continue;
    }
    // fp16 groups (sinks, a recent window): f32 products with the rows' own queries.
    for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
      const slice = buffer + (<usize>(kvHead * headDim) << 2);
      const q0 = queries + rowBytes * <usize>(kvHead * rows);
      if (rows == 4) dot4(slice, headDim, q0, q0 + rowBytes, q0 + 2 * rowBytes, q0 + 3 * rowBytes, products);
      else dot3(slice, headDim, q0, q0 + rowBytes, q0 + 2 * rowBytes, products);
      const headTarget = target + headStride * <usize>kvHead;
      for (let row = 0; row < rows; row += 1) {
        store<f32>(headTarget + rowStride * <usize>row, load<f32>(products + (<usize>row << 2)) * scoreScale);
      }
    }
  }
}

// Fast values (AttentionOptions.fastValues): a decode step's value pass in integers. Per block of FAST_VALUE_BLOCK
// kept tokens, each row's weights w = p·s are rounded to 16 bits of the block's largest, q = round(w·32767 / W), and
// Σ q·codes is summed exactly in i32 by i32x4.dot_i16x8_s over pairs of tokens (eight multiply-adds per
// instruction, against two f32 operations per four); the block's sums enter the f64 totals times W / 32767. A
// weight moves by at most W / 65534, so a row's output by at most Σ_t (W_block(t) / 65534)·codes_t. The bias
// p·(m + s/2), fp16 tokens and heavy tokens stay exact (f64): a token some row gives a probability of at least
// FAST_VALUE_HEAVY (in a chunk of a split call without the call's normalisers, a weight of at least that share of
// the chunk's largest) is summed exactly, so W is at most that share of the row's probability mass times a step and
// the few tokens that carry the output lose nothing. 64 tokens · 32767 · 255 < 2^31: no i32 sum can overflow.
const FAST_VALUE_BLOCK: i32 = 64;
const FAST_VALUE_HEAVY: f32 = 1.0 / 128;
export const FLAG_FAST_SCORES: i32 = 1;
export const FLAG_FAST_VALUES: i32 = 2;

/** Bytes of one token's record in a fast-value block: codes address, width, then four weights (rows) per head. */
@inline function fastValueRecordBytes(heads: i32): i32 {
  return 16 + 16 * heads;
}

/** Scratch of the fast-value pass: a block's token records, then 80 bytes of block state per head. */
@inline function fastValueScratchBytes(heads: i32): i32 {
  return FAST_VALUE_BLOCK * fastValueRecordBytes(heads) + 80 * heads;
}

/** i16 lanes 0..3 of a and b interleaved (a0 b0 a1 b1 a2 b2 a3 b3). */
@inline function interleaveLow(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
}

/** i16 lanes 4..7 of a and b interleaved (a4 b4 … a7 b7). */
@inline function interleaveHigh(a: v128, b: v128): v128 {
  return i8x16.shuffle(a, b, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
}

/** A head's four row weights times the block's factors, rounded to integers (lane r: row r). */
@inline function roundedWeights(weights: v128, factors: v128): v128 {
  return i32x4.trunc_sat_f32x4_s(f32x4.nearest(f32x4.mul(weights, factors)));
}

/** Two tokens' rounded weights as an i16 pair per row (lane r): the first token's in the low half. */
@inline function weightPairs(first: v128, second: v128): v128 {
  return v128.or(i32x4.shl(second, 16), v128.and(first, i32x4.splat(0xffff)));
}

/** accumulator[0..8) += two token pairs' interleaved codes (low: channels 0..3, high: 4..7) · one row's weight pairs. */
@inline function accumulatePairs(low01: v128, high01: v128, low23: v128, high23: v128, pairs01: v128, pairs23: v128, accumulator: usize): void {
  v128.store(accumulator, i32x4.add(v128.load(accumulator), i32x4.add(i32x4.dot_i16x8_s(low01, pairs01), i32x4.dot_i16x8_s(low23, pairs23))));
  v128.store(accumulator, i32x4.add(v128.load(accumulator, 16), i32x4.add(i32x4.dot_i16x8_s(high01, pairs01), i32x4.dot_i16x8_s(high23, pairs23))), 16);
}

/** One probability per row of a head (rows 3 or 4, `rowStride` bytes apart) as one vector; lane 3 is 0 for 3 rows. */
@inline function rowProbabilities(address: usize, rowStride: usize, rows: i32): v128 {
  let vector = f32x4.splat(load<f32>(address));
  vector = f32x4.replace_lane(vector, 1, load<f32>(address + rowStride));
  vector = f32x4.replace_lane(vector, 2, load<f32>(address + 2 * rowStride));
  return f32x4.replace_lane(vector, 3, rows == 4 ? load<f32>(address + 3 * rowStride) : 0);
}

/**
 * Adds one token's values to every head's and row's f64 totals exactly (integerValues' fp16 and heavy tokens):
 * fp16 values as they are, packed codes as p·s·codes plus the bias p·(m + s/2) (locateGroup's parameters).
 * `probabilities` is the token's weight in row 0 of head 0; `halves` takes the unpacked group as f32.
 */
function addTokenExactly(
  codes: usize, bits: i32, heads: i32, kvHeads: i32, headDim: i32, rows: i32,
  probabilities: usize, headScoreBytes: usize, rowStride: usize, totals: usize, halves: usize,
): void {
  unpackSlice(bits, codes, kvHeads * headDim, halves);
  const factor: f64 = bits == 16 ? 1 : <f64>sliceStep;
  const bias: f64 = bits == 16 ? 0 : <f64>sliceMinimum + 0.5 * <f64>sliceStep;
  const totalRowBytes = <usize>(headDim + 4) << 3;
  for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
    if (((heads >> kvHead) & 1) == 0) continue;
    const slice = halves + (<usize>(kvHead * headDim) << 2);
    for (let row = 0; row < rows; row += 1) {
      const probability = <f64>load<f32>(probabilities + headScoreBytes * <usize>kvHead + rowStride * <usize>row);
      const total = totals + totalRowBytes * <usize>(kvHead * rows + row);
      const weight = f64x2.splat(probability * factor);
      for (let element = 0; element < headDim; element += 4) {
        const address = total + (<usize>element << 3);
        const values = v128.load(slice + (<usize>element << 2));
        v128.store(address, f64x2.add(v128.load(address), f64x2.mul(weight, f64x2.promote_low_f32x4(values))));
        v128.store(address, f64x2.add(v128.load(address, 16), f64x2.mul(weight, f64x2.promote_low_f32x4(i32x4.shuffle(values, values, 2, 3, 0, 1)))), 16);
      }
      const biasLane = total + (<usize>headDim << 3);
      store<f64>(biasLane, load<f64>(biasLane) + probability * bias);
    }
  }
}

/**
 * valuesAllHeads' accumulation with fast values, over its `count` kept tokens: adds every head's and row's
 * Σ p·v (code lanes) and Σ p·(m + s/2) (bias lane D) into `totals` (f64, valuesAllHeads' layout). Rows 3 or 4 per
 * head, kept in four lanes. Scratch: `records` (FAST_VALUE_BLOCK token records, then per head the block state: its
 * largest weights, 32767 / W, W / 32767, the bias sums and the heavy thresholds, four f32 lanes each), `codeWords`
 * (four groups of u16 codes), `accumulators` (i32 per head, row and element; left zero) and `halves` (one group as
 * f32).
 */
function integerValues(
  valueDescriptor: usize, kvHeads: i32, headDim: i32, rows: i32, kept: usize, count: i32,
  scores: usize, headScoreBytes: usize, rowStride: usize, records: usize, codeWords: usize,
  accumulators: usize, totals: usize, halves: usize,
  partials: usize, partialRecordBytes: usize, normalizers: usize,
): void {
  const groupDim = kvHeads * headDim;
  const recordBytes = <usize>fastValueRecordBytes(kvHeads);
  const blockState = records + recordBytes * <usize>FAST_VALUE_BLOCK;
  const wordBytes = <usize>groupDim << 1;
  const totalRowBytes = <usize>(headDim + 4) << 3;
  const accumulatorRowBytes = <usize>headDim << 2;
  const headStateBytes = <usize>80;
  const zero = f32x4.splat(0);
  // Per head and row, the weight from which a token is heavy (lanes past the rows never reach it).
  for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
    const heavy = blockState + headStateBytes * <usize>kvHead + 64;
    v128.store(heavy, f32x4.splat(Infinity));
    for (let row = 0; row < rows; row += 1) {
      const threshold = partials != 0 && normalizers == 0
        ? FAST_VALUE_HEAVY
        : rowThreshold(FAST_VALUE_HEAVY, partials, partialRecordBytes, normalizers, kvHead * rows + row);
      store<f32>(heavy + (<usize>row << 2), threshold);
    }
  }
  for (let blockStart = 0; blockStart < count; blockStart += FAST_VALUE_BLOCK) {
    const blockEnd = min(count, blockStart + FAST_VALUE_BLOCK);
    for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
      const state = blockState + headStateBytes * <usize>kvHead;
      v128.store(state, zero);
      v128.store(state, zero, 48);
    }
    // Pass 1: locate each token's group; fp16 and heavy tokens go to the totals at once, the others get a record.
    let packed = 0;
    for (let keptIndex = blockStart; keptIndex < blockEnd; keptIndex += 1) {
      const entry = load<i32>(kept + (<usize>keptIndex << 2));
      const token = entry & 0xffffff;
      const heads = entry >>> 24;
      const codes = locateGroup(valueDescriptor, token);
      const bits = sliceBits;
      const tokenOffset = <usize>token << 2;
      const record = records + recordBytes * <usize>packed;
      let exact = bits == 16;
      if (!exact) {
        // Each head's row probabilities, gathered once into the record: the heavy test reads them, the weights below.
        for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
          const probabilities = ((heads >> kvHead) & 1) != 0
            ? rowProbabilities(scores + headScoreBytes * <usize>kvHead + tokenOffset, rowStride, rows)
            : zero;
          v128.store(record + 16 + (<usize>kvHead << 4), probabilities);
          if (v128.any_true(f32x4.ge(probabilities, v128.load(blockState + headStateBytes * <usize>kvHead, 64)))) exact = true;
        }
      }
      if (exact) {
        addTokenExactly(codes, bits, heads, kvHeads, headDim, rows, scores + tokenOffset, headScoreBytes, rowStride, totals, halves);
        continue;
      }
      store<u32>(record, <u32>codes);
      store<i32>(record, bits, 4);
      const step = f32x4.splat(sliceStep);
      const bias = f32x4.splat(sliceMinimum + 0.5 * sliceStep);
      for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
        const probabilities = v128.load(record + 16 + (<usize>kvHead << 4));
        const weights = f32x4.mul(probabilities, step);
        v128.store(record + 16 + (<usize>kvHead << 4), weights);
        const state = blockState + headStateBytes * <usize>kvHead;
        v128.store(state, f32x4.max(v128.load(state), weights));
        v128.store(state, f32x4.add(v128.load(state, 48), f32x4.mul(probabilities, bias)), 48);
      }
      packed += 1;
    }
    // The block's scales per head and row (weights become round(w · 32767 / W)); its bias sums into the totals.
    for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
      const state = blockState + headStateBytes * <usize>kvHead;
      const largest = v128.load(state);
      const positive = f32x4.gt(largest, zero);
      v128.store(state, v128.bitselect(f32x4.div(f32x4.splat(32767), largest), zero, positive), 16);
      v128.store(state, f32x4.div(largest, f32x4.splat(32767)), 32);
      for (let row = 0; row < rows; row += 1) {
        const biasLane = totals + totalRowBytes * <usize>(kvHead * rows + row) + (<usize>headDim << 3);
        store<f64>(biasLane, load<f64>(biasLane) + <f64>load<f32>(state + 48 + (<usize>row << 2)));
      }
    }
    if (packed == 0) continue;
    // Pass 2: four tokens at a time (missing ones weigh 0 and reuse the first's codes), integer sums per head.
    for (let first = 0; first < packed; first += 4) {
      const tokens = min(4, packed - first);
      const record0 = records + recordBytes * <usize>first;
      for (let index = 0; index < tokens; index += 1) {
        const record = record0 + recordBytes * <usize>index;
        unpackSliceWords(load<i32>(record, 4), <usize>load<u32>(record), groupDim, codeWords + wordBytes * <usize>index);
      }
      const words1 = tokens > 1 ? codeWords + wordBytes : codeWords;
      const words2 = tokens > 2 ? codeWords + 2 * wordBytes : codeWords;
      const words3 = tokens > 3 ? codeWords + 3 * wordBytes : codeWords;
      for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
        const factors = v128.load(blockState + headStateBytes * <usize>kvHead, 16);
        const weightOffset = <usize>16 + (<usize>kvHead << 4);
        const q0 = roundedWeights(v128.load(record0 + weightOffset), factors);
        const q1 = tokens > 1 ? roundedWeights(v128.load(record0 + recordBytes + weightOffset), factors) : zero;
        const q2 = tokens > 2 ? roundedWeights(v128.load(record0 + 2 * recordBytes + weightOffset), factors) : zero;
        const q3 = tokens > 3 ? roundedWeights(v128.load(record0 + 3 * recordBytes + weightOffset), factors) : zero;
        const pairs01 = weightPairs(q0, q1);
        const pairs23 = weightPairs(q2, q3);
        const row0 = i32x4.shuffle(pairs01, pairs01, 0, 0, 0, 0);
        const row0b = i32x4.shuffle(pairs23, pairs23, 0, 0, 0, 0);
        const row1 = i32x4.shuffle(pairs01, pairs01, 1, 1, 1, 1);
        const row1b = i32x4.shuffle(pairs23, pairs23, 1, 1, 1, 1);
        const row2 = i32x4.shuffle(pairs01, pairs01, 2, 2, 2, 2);
        const row2b = i32x4.shuffle(pairs23, pairs23, 2, 2, 2, 2);
        const row3 = i32x4.shuffle(pairs01, pairs01, 3, 3, 3, 3);
        const row3b = i32x4.shuffle(pairs23, pairs23, 3, 3, 3, 3);
        const headOffset = <usize>(kvHead * headDim) << 1;
        const accumulator = accumulators + accumulatorRowBytes * <usize>(kvHead * rows);
        for (let element = 0; element < headDim; element += 8) {
          const offset = headOffset + (<usize>element << 1);
          const codes0 = v128.load(codeWords + offset);
          const codes1 = v128.load(words1 + offset);
          const codes2 = v128.load(words2 + offset);
          const codes3 = v128.load(words3 + offset);
          const low01 = interleaveLow(codes0, codes1);
          const high01 = interleaveHigh(codes0, codes1);
          const low23 = interleaveLow(codes2, codes3);
          const high23 = interleaveHigh(codes2, codes3);
          const target = accumulator + (<usize>element << 2);
          accumulatePairs(low01, high01, low23, high23, row0, row0b, target);
          accumulatePairs(low01, high01, low23, high23, row1, row1b, target + accumulatorRowBytes);
          accumulatePairs(low01, high01, low23, high23, row2, row2b, target + 2 * accumulatorRowBytes);
          if (rows == 4) accumulatePairs(low01, high01, low23, high23, row3, row3b, target + 3 * accumulatorRowBytes);
        }
      }
    }
    // The block's integer sums into the totals, times W / 32767; the accumulators start the next block at zero.
    for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
      for (let row = 0; row < rows; row += 1) {
        const at = kvHead * rows + row;
        const scale = <f64>load<f32>(blockState + headStateBytes * <usize>kvHead + 32 + (<usize>row << 2));
        const accumulator = accumulators + accumulatorRowBytes * <usize>at;
        const total = totals + totalRowBytes * <usize>at;
        for (let element = 0; element < headDim; element += 1) {
          const address = total + (<usize>element << 3);
          store<f64>(address, load<f64>(address) + <f64>load<i32>(accumulator + (<usize>element << 2)) * scale);
        }
        memory.fill(accumulator, 0, accumulatorRowBytes);
      }
    }
  }
}

/**
 * valuesAllHeads' accumulation in f32 (exact values), over its `count` kept tokens: each head reads the tokens its
 * own rows keep (the entry's head mask), four unpacked slices at a time into its f32 accumulators (the bias in lane
 * D), flushed into its f64 `totals` every 64 of its tokens.
 */
function floatValues(
  valueDescriptor: usize, kvHeads: i32, headDim: i32, rows: i32, kept: usize, count: i32,
  scores: usize, headScoreBytes: usize, rowStride: usize, valueSlices: usize, weights: usize, accumulators: usize, totals: usize,
): void {
  const valueLength = headDim + 4;
  const valueBytes = <usize>valueLength << 2;
  const headAccumulatorBytes = valueBytes * <usize>rows;
  const headLanes = rows * valueLength;
  const tokenWeightBytes = <usize>rows << 2;
  // One head at a time over the tokens it keeps: a token only another head keeps is neither unpacked nor weighed
  // here (with three KV heads most kept tokens are kept by one or two of them).
  for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
    const slices = valueSlices + valueBytes * <usize>(kvHead * 4);
    const accumulator = accumulators + headAccumulatorBytes * <usize>kvHead;
    const total = totals + (headAccumulatorBytes << 1) * <usize>kvHead;
    const headWeights = weights + tokenWeightBytes * <usize>(kvHead * 4);
    const headProbabilities = scores + headScoreBytes * <usize>kvHead;
    const elementOffset = kvHead * headDim;
    let blockTokens = 0;
    let summed = 0;
    for (let keptIndex = 0; keptIndex < count; keptIndex += 1) {
      const entry = load<u32>(kept + (<usize>keptIndex << 2));
      if (((entry >>> 24) & (<u32>1 << <u32>kvHead)) == 0) continue;
      const token = <i32>(entry & 0xffffff);
      const codes = locateGroup(valueDescriptor, token);
      const bits = sliceBits;
      const factor: f32 = bits == 16 ? 1 : sliceStep;
      const bias: f32 = bits == 16 ? 0 : (sliceMinimum + 0.5 * sliceStep) / sliceStep;
      const slice = slices + valueBytes * <usize>blockTokens;
      unpackSlice(bits, codes + <usize>((elementOffset * bits) >> 3), headDim, slice);
      v128.store(slice + (<usize>headDim << 2), f32x4.replace_lane(f32x4.splat(0), 0, bias));
      const tokenWeights = headWeights + tokenWeightBytes * <usize>blockTokens;
      const probabilities = headProbabilities + (<usize>token << 2);
      for (let row = 0; row < rows; row += 1) {
        store<f32>(tokenWeights + (<usize>row << 2), load<f32>(probabilities + rowStride * <usize>row) * factor);
      }
      blockTokens += 1;
      if (blockTokens < 4) continue;
      if (rows == 4) accumulateFourTokens(slices, valueBytes, valueLength, accumulator, valueBytes, headWeights, tokenWeightBytes, 4);
      else accumulateFourTokens(slices, valueBytes, valueLength, accumulator, valueBytes, headWeights, tokenWeightBytes, 3);
      blockTokens = 0;
      summed += 4;
      if ((summed & 63) == 0) flushAccumulators(accumulator, total, headLanes);
    }
    for (let index = 0; index < blockTokens; index += 1) {
      const slice = slices + valueBytes * <usize>index;
      const tokenWeights = headWeights + tokenWeightBytes * <usize>index;
      for (let row = 0; row < rows; row += 1) {
        axpy1(slice, valueLength, accumulator + valueBytes * <usize>row, load<f32>(tokenWeights + (<usize>row << 2)));
      }
    }
    flushAccumulators(accumulator, total, headLanes);
  }
}

/**
 * Decode output of every KV head from one list of tokens [from, to], for value groups spanning all KV heads with no
 * outliers (the presets' layout): the list holds each token some head keeps (a row of that head at probability ≥ τ,
 * as keepNonNegligible judges; every token without `skips`) with the mask of the heads that keep it, and each head
 * then unpacks and accumulates only its own tokens' slices for its rows (3 or 4: one query position), so every head
 * sums exactly the tokens the per-head pass would (the integer pass, fast values, still reads every listed token
 * for every head and weighs the others 0). Head h's probabilities are at
 * scores + h·headScoreBytes, rows paddedTokens apart; results go to `output` or, in a chunk, to `partials`.
 */
function valuesAllHeads(
  valueDescriptor: usize, kvHeads: i32, headDim: i32, rows: i32, from: i32, to: i32,
  scores: usize, headScoreBytes: usize, paddedTokens: i32, skips: bool, negligibleProbability: f32,
  partials: usize, partialRecordBytes: usize, normalizers: usize, thresholds: usize, kept: usize,
  valueSlices: usize, weights: usize, accumulators: usize, totals: usize, output: usize, blockRecords: usize, halves: usize,
): void {
  const rowStride = <usize>paddedTokens << 2;
  // Per head and row: the bar a token's weight must reach (−∞ when nothing is skipped).
  for (let record = 0; record < kvHeads * rows; record += 1) {
    const threshold = skips ? rowThreshold(negligibleProbability, partials, partialRecordBytes, normalizers, record) : -Infinity;
    store<f32>(thresholds + (<usize>record << 2), threshold);
  }
  // Kept tokens with the heads that keep them: (head mask << 24) | token.
  let count = 0;
  for (let token = from; token <= to; token += 4) {
    let anyHead = 0;
    let headMasks: u64 = 0;
    for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
      const headScores = scores + headScoreBytes * <usize>kvHead + (<usize>token << 2);
      const lanes = lanesAtOrAbove(headScores, rowStride, rows, thresholds + (<usize>(kvHead * rows) << 2)) & ((1 << min(4, to + 1 - token)) - 1);
      anyHead |= lanes;
      headMasks |= <u64>lanes << <u64>(kvHead * 4);
    }
    while (anyHead != 0) {
      const lane = <i32>ctz(anyHead);
      anyHead &= anyHead - 1;
      let heads = 0;
      for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) heads |= <i32>((headMasks >> <u64>(kvHead * 4 + lane)) & 1) << kvHead;
      store<i32>(kept + (<usize>count << 2), (heads << 24) | (token + lane));
      count += 1;
    }
  }
  const valueBytes = <usize>(headDim + 4) << 2;
  const lanes = kvHeads * rows * (headDim + 4);
  // Both passes sum from zero (the integer pass reads the accumulators as i32, whose zero is f32's).
  memory.fill(accumulators, 0, <usize>lanes << 2);
  memory.fill(totals, 0, <usize>lanes << 3);
  if (blockRecords != 0) {
    integerValues(
      valueDescriptor, kvHeads, headDim, rows, kept, count, scores, headScoreBytes, rowStride, blockRecords, valueSlices, accumulators, totals, halves,
      partials, partialRecordBytes, normalizers,
    );
  } else {
    floatValues(
      valueDescriptor, kvHeads, headDim, rows, kept, count, scores, headScoreBytes, rowStride, valueSlices, weights, accumulators, totals,
    );
  }
  const rowBytes = <usize>headDim << 2;
  for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
    for (let row = 0; row < rows; row += 1) {
      const record = kvHead * rows + row;
      const total = totals + ((valueBytes * <usize>record) << 1);
      if (partials != 0) finishRow(total, headDim, partials + partialRecordBytes * <usize>record + 16, true);
      else finishRow(total, headDim, output + rowBytes * <usize>record, false);
    }
  }
}

/**
 * Scratch bytes `attend` needs for `rows` query rows (query positions · query heads per KV head). Sized for groups
 * spanning all `kvHeads` heads, and for one query position (rows ≤ 4) with every head's scores side by side.
 */
export function scratchBytes(rows: i32, tokenCount: i32, headDim: i32, kvHeads: i32): i32 {
  const paddedTokens = (tokenCount + 3) & ~3;
  const scoreRows = rows <= MERGED_MAXIMUM_ROWS ? kvHeads * rows : rows;
  const groupDim = kvHeads * headDim;
  const valueLength = headDim + 4;
  // attendRange's layout, in order (three 16-byte alignments, 64 bytes of margin).
  return 48 + 4 * groupDim + 32 + 20 * rows + 16 * kvHeads * rows + 2 * groupDim + 4 * rows * headDim
    + 16 * kvHeads * valueLength + 12 * kvHeads * rows * valueLength + 4 * kvHeads * rows * headDim + 12 * kvHeads * rows
    + (rows <= MERGED_MAXIMUM_ROWS ? 16 + fastValueScratchBytes(kvHeads) : 0)
    + 4 * scoreRows * paddedTokens + 4 * paddedTokens + 64;
}

/** Decode calls (one query position: 3 or 4 rows per KV head in GQA) keep every head's scores at once. */
const MERGED_MAXIMUM_ROWS: i32 = 4;

/**
 * One layer's attention for `queryCount` consecutive query positions, the first at `firstPosition`
 * (queries [queryCount, queryHeads, headDim] f32; output likewise). Query i sees tokens
 * max(0, p − window + 1) ≤ t ≤ p, p = firstPosition + i (window 0: no limit). maxProbabilities (0: not wanted)
 * is [queryCount, kvHeads, tokenCount]: per token, the largest probability over the query heads of each KV head,
 * 0 where masked. groupsPerToken is kvHeads (a group per KV head) or 1 (a group spans all KV heads).
 * Rows (query position i, head j of the KV head's group) are r = i·G + j, handled in blocks of four.
 */
export function attend(
  keyDescriptor: usize,
  valueDescriptor: usize,
  tokenCount: i32,
  kvHeads: i32,
  headDim: i32,
  groupsPerToken: i32,
  queryHeads: i32,
  queryCount: i32,
  firstPosition: i32,
  window: i32,
  scoreScale: f32,
  queries: usize,
  output: usize,
  maxProbabilities: usize,
  scratch: usize,
  negligibleProbability: f32,
  flags: i32,
): void {
  attendRange(
    keyDescriptor, valueDescriptor, tokenCount, kvHeads, headDim, groupsPerToken, queryHeads, queryCount, firstPosition, window,
    scoreScale, queries, output, maxProbabilities, scratch, 0, tokenCount, 0, 0, negligibleProbability, PHASE_BOTH, 0, flags,
  );
}

/** The first token any query of a call sees: the oldest query's window start (0 without a window). */
@inline export function lowestVisibleToken(firstPosition: i32, window: i32): i32 {
  return window > 0 ? max(0, firstPosition - window + 1) : 0;
}

/** Bytes of one chunk's partial results: per KV head and row, its maximum, its sum and D outputs (f64 each). */
export function partialBytes(kvHeads: i32, rows: i32, headDim: i32): i32 {
  return kvHeads * rows * (headDim + 2) * 8;
}

/**
 * `attend` over the tokens in [tokenStart, tokenEnd) only. With `partials` 0 and the whole range this is `attend`.
 * Otherwise (one chunk of a split call, the flash-decoding split) nothing is normalised: per KV head and row it
 * writes, at partials + ((kvHead·rows + row)·(D + 2))·8, the chunk's score maximum m, Σ exp(score − m) and the
 * D outputs Σ exp(score − m)·v (f64), leaves exp(score − m) of its tokens in `sharedScores` (rows of paddedTokens
 * f32 per KV head, at kvHead·rows·paddedTokens), and writes neither `output` nor `maxProbabilities`: mergeParts
 * combines the chunks. A row that sees none of the chunk's tokens gets m = −∞, sum 0 and zero outputs.
 */
export function attendRange(
  keyDescriptor: usize,
  valueDescriptor: usize,
  tokenCount: i32,
  kvHeads: i32,
  headDim: i32,
  groupsPerToken: i32,
  queryHeads: i32,
  queryCount: i32,
  firstPosition: i32,
  window: i32,
  scoreScale: f32,
  queries: usize,
  output: usize,
  maxProbabilities: usize,
  scratch: usize,
  tokenStart: i32,
  tokenEnd: i32,
  sharedScores: usize,
  partials: usize,
  negligibleProbability: f32,
  phase: i32,
  normalizers: usize,
  flags: i32,
): void {
  const fastScores = (flags & FLAG_FAST_SCORES) != 0;
  const fastValues = (flags & FLAG_FAST_VALUES) != 0;
  const headsPerKv = queryHeads / kvHeads;
  const rows = queryCount * headsPerKv;
  const paddedTokens = (tokenCount + 3) & ~3;
  // Buffers for one group's elements: a KV head's slice, or all heads' when a group spans them; per-head arrays
  // (weights, value slices, accumulators) for every head a group spans (scoreAllHeads, valuesAllHeads).
  const headsPerGroup = groupsPerToken == 1 ? kvHeads : 1;
  const groupDim = headsPerGroup * headDim;
  const buffer = (scratch + 15) & ~(<usize>15);
  const products = buffer + (<usize>groupDim << 2);
  const querySums = products + 32;
  const firsts = querySums + (<usize>rows << 2);
  const lasts = firsts + (<usize>rows << 2);
  const rowQueries = lasts + (<usize>rows << 2);
  const weights = rowQueries + (<usize>rows << 2);
  const queryScales = weights + (<usize>(headsPerGroup * rows) << 4);
  const words = (queryScales + (<usize>rows << 2) + 15) & ~(<usize>15);
  const queryWords = words + (<usize>groupDim << 1);
  // Value slices and accumulators carry 4 extra lanes: lane D holds (m + s/2)/s, so the accumulated weight p·s
  // adds p·(m + s/2) there — the per-row bias — with no separate update per token.
  const valueLength = headDim + 4;
  const valueSlices = queryWords + (<usize>(rows * headDim) << 2);
  const accumulators = valueSlices + (<usize>(headsPerGroup * valueLength) << 4);
  // f64 totals the f32 accumulators are flushed into every 64 tokens: the bias lane and the code lanes cancel
  // (both ~|m|), so long f32 sums alone would drift by ~1e-5.
  const totals = accumulators + (<usize>(headsPerGroup * rows * valueLength) << 2);
  // Every KV head's query parts for scoreAllHeads (words, scales, sums) and skip thresholds for valuesAllHeads.
  const headWords = (totals + (<usize>(headsPerGroup * rows * valueLength) << 3) + 15) & ~(<usize>15);
  const headScales = headWords + (<usize>(headsPerGroup * rows * headDim) << 2);
  const headSums = headScales + (<usize>(headsPerGroup * rows) << 2);
  const headThresholds = headSums + (<usize>(headsPerGroup * rows) << 2);
  // Fast values: one record per token of a block (codes address, width, every head's and row's weight).
  const blockRecords = (headThresholds + (<usize>(headsPerGroup * rows) << 2) + 15) & ~(<usize>15);
  const ownScores = blockRecords + <usize>(rows <= MERGED_MAXIMUM_ROWS ? fastValueScratchBytes(headsPerGroup) : <i32>0);
  // One query position keeps every KV head's scores side by side (scoreAllHeads writes them in one pass).
  const scoreRows = rows <= MERGED_MAXIMUM_ROWS ? kvHeads * rows : rows;
  // The tokens the value pass reads (all visible ones unless negligible ones are skipped), after the scores.
  const keptTokens = sharedScores == 0 ? ownScores + (<usize>(scoreRows * paddedTokens) << 2) : ownScores;
  // A chunk knows the call's probabilities only in phase 2 (normalizeParts ran between the phases).
  const skipsNegligible = negligibleProbability > 0 && rows <= MAXIMUM_SKIPPING_ROWS && (partials == 0 || phase == PHASE_VALUES);
  const partialRecordBytes = <usize>(headDim + 2) << 3;
  const rowBytes = <usize>headDim << 2;
  const keyOutliers = word(keyDescriptor, DESCRIPTOR_OUTLIERS);
  const keyPositionBytes = word(keyDescriptor, DESCRIPTOR_POSITION_BYTES);
  const valueOutliers = word(valueDescriptor, DESCRIPTOR_OUTLIERS);
  const valuePositionBytes = word(valueDescriptor, DESCRIPTOR_POSITION_BYTES);
  // Tokens past the last query position are masked for every row of this call.
  const end = firstPosition + queryCount;
  let lowest = firstPosition;
  for (let row = 0; row < rows; row += 1) {
    const last = firstPosition + row / headsPerKv;
    const first = window > 0 ? max(0, last - window + 1) : 0;
    store<i32>(firsts + (<usize>row << 2), first);
    store<i32>(lasts + (<usize>row << 2), last);
    if (first < lowest) lowest = first;
  }
  // This call's share of the tokens (all of them unless a chunk of a split call).
  const low = max(lowest, tokenStart);
  const high = min(end, tokenEnd);
  const headScoreBytes = <usize>(rows * paddedTokens) << 2;
  const scoreBase = sharedScores == 0 ? ownScores : sharedScores;
  // Decode over groups spanning every KV head: one pass scores all heads (each group unpacked once).
  const scoresMerged = phase != PHASE_VALUES && groupsPerToken == 1 && kvHeads > 1 && queryCount == 1
    && (rows == 3 || rows == 4) && keyOutliers == 0 && low < high;
  // The same for the values: one pass reads each group once for every head (after every head's softmax).
  // Fast values take this path for one KV head too (Gemma 3): it is where their integer accumulation lives.
  const valuesMerged = phase != PHASE_SCORES && groupsPerToken == 1 && (kvHeads > 1 || fastValues) && kvHeads <= 8 && queryCount == 1
    && (rows == 3 || rows == 4) && valueOutliers == 0 && low < high;
  if (scoresMerged) {
    scoreAllHeads(
      keyDescriptor, queries, queryHeads, kvHeads, headDim, rows, max(low, load<i32>(firsts)), min(high - 1, load<i32>(lasts)),
      scoreScale, buffer, words, headWords, headScales, headSums, scoreBase, headScoreBytes, <usize>paddedTokens << 2, products, fastScores,
    );
  }
  for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
    const scores = sharedScores == 0 && scoreRows == rows ? ownScores : scoreBase + headScoreBytes * <usize>kvHead;
    if (low >= high) {
      // Phase 1 (or the single pass) already left this chunk's empty records.
      if (phase == PHASE_VALUES) continue;
      for (let row = 0; row < rows; row += 1) {
        const record = partials + partialRecordBytes * <usize>(kvHead * rows + row);
        store<f64>(record, -Infinity);
        memory.fill(record + 8, 0, partialRecordBytes - 8);
      }
      continue;
    }
    const headGroup = groupsPerToken == 1 ? 0 : kvHead;
    const elementOffset = groupsPerToken == 1 ? kvHead * headDim : 0;
    if (phase != PHASE_VALUES) {
      if (!scoresMerged) {
        for (let row = 0; row < rows; row += 1) {
          const query = queries + rowBytes * <usize>((row / headsPerKv) * queryHeads + kvHead * headsPerKv + (row % headsPerKv));
          store<i32>(rowQueries + (<usize>row << 2), <i32>query);
          prepareQueryRow(query, headDim, querySums + (<usize>row << 2), queryScales + (<usize>row << 2), queryWords + (<usize>(row * headDim) << 2));
        }
        // Scores straight from the packed keys.
        for (let token = low; token < high; token += 1) {
          loadSlice(keyDescriptor, token * groupsPerToken + headGroup, elementOffset, headDim, buffer, words);
          const bits = sliceBits;
          const minimum = sliceMinimum;
          const step = sliceStep;
          const offset = minimum + 0.5 * step;
          for (let blockStart = 0; blockStart < rows; blockStart += 4) {
            const blockRows = min(4, rows - blockStart);
            const rowTable = rowQueries + (<usize>blockStart << 2);
            // Every row of a block sees the token when the block's newest first and oldest last allow it.
            const allVisible = token >= load<i32>(firsts + (<usize>(blockStart + blockRows - 1) << 2)) && token <= load<i32>(lasts + (<usize>blockStart << 2));
            const wordTable = queryWords + (<usize>(blockStart * headDim) << 2);
            const wordRow = <usize>headDim << 2;
            if (bits != 16 && allVisible && blockRows >= 3) {
              // Fast path (every decode step): four rows' scores as one vector, outlier corrections after.
              const sums = dotWordsRows(words, headDim, wordTable, wordRow, blockRows, fastScores);
              const blockOffset = <usize>blockStart << 2;
              let vector = f32x4.add(
                f32x4.mul(f32x4.mul(sums, v128.load(queryScales + blockOffset)), f32x4.splat(step)),
                f32x4.mul(v128.load(querySums + blockOffset), f32x4.splat(offset)),
              );
              // Outliers: q_r[p]·(exact − k̂_p) for the block's rows at once.
              for (let outlier = 0; outlier < keyOutliers; outlier += 1) {
                const position = (keyPositionBytes == 1 ? <i32>load<u8>(sliceOutlierPositions + <usize>outlier) : <i32>load<u16>(sliceOutlierPositions + (<usize>outlier << 1))) - elementOffset;
                if (<u32>position >= <u32>headDim) continue;
                const exact = halfToFloat(load<u16>(sliceOutlierValues + (<usize>outlier << 1)));
                const difference = exact - (minimum + (<f32>load<u16>(words + (<usize>position << 1)) + 0.5) * step);
                const element = <usize>position << 2;
                let queryValues = f32x4.splat(load<f32>(<usize>load<i32>(rowTable) + element));
                queryValues = f32x4.replace_lane(queryValues, 1, load<f32>(<usize>load<i32>(rowTable, 4) + element));
                queryValues = f32x4.replace_lane(queryValues, 2, load<f32>(<usize>load<i32>(rowTable, 8) + element));
                if (blockRows == 4) queryValues = f32x4.replace_lane(queryValues, 3, load<f32>(<usize>load<i32>(rowTable, 12) + element));
                vector = f32x4.add(vector, f32x4.mul(queryValues, f32x4.splat(difference)));
              }
              vector = f32x4.mul(vector, f32x4.splat(scoreScale));
              const rowStride = <usize>paddedTokens << 2;
              const target = scores + (<usize>(blockStart * paddedTokens + token) << 2);
              store<f32>(target, f32x4.extract_lane(vector, 0));
              store<f32>(target + rowStride, f32x4.extract_lane(vector, 1));
              store<f32>(target + 2 * rowStride, f32x4.extract_lane(vector, 2));
              if (blockRows == 4) store<f32>(target + 3 * rowStride, f32x4.extract_lane(vector, 3));
              continue;
            }
            if (bits != 16) {
              for (let index = 0; index < blockRows; index += 1) {
                const row = blockStart + index;
                if (token < load<i32>(firsts + (<usize>row << 2)) || token > load<i32>(lasts + (<usize>row << 2))) continue;
                store<f32>(products + (<usize>index << 2), dotWords(words, headDim, wordTable + wordRow * <usize>index, fastScores));
              }
            } else if (allVisible && blockRows == 4) {
              dot4(buffer, headDim, load<i32>(rowTable), load<i32>(rowTable, 4), load<i32>(rowTable, 8), load<i32>(rowTable, 12), products);
            } else if (allVisible && blockRows == 3) {
              dot3(buffer, headDim, load<i32>(rowTable), load<i32>(rowTable, 4), load<i32>(rowTable, 8), products);
            } else if (allVisible && blockRows == 2) {
              dot2(buffer, headDim, load<i32>(rowTable), load<i32>(rowTable, 4), products);
            } else {
              for (let index = 0; index < blockRows; index += 1) {
                const row = blockStart + index;
                if (token < load<i32>(firsts + (<usize>row << 2)) || token > load<i32>(lasts + (<usize>row << 2))) continue;
                store<f32>(products + (<usize>index << 2), dot(load<i32>(rowTable + (<usize>index << 2)), buffer, headDim));
              }
            }
            for (let index = 0; index < blockRows; index += 1) {
              const row = blockStart + index;
              if (!allVisible && (token < load<i32>(firsts + (<usize>row << 2)) || token > load<i32>(lasts + (<usize>row << 2)))) continue;
              const product = load<f32>(products + (<usize>index << 2));
              let score: f32;
              if (bits == 16) {
                score = product;
              } else {
                score = step * product * load<f32>(queryScales + (<usize>row << 2)) + offset * load<f32>(querySums + (<usize>row << 2));
                const query = <usize>load<i32>(rowTable + (<usize>index << 2));
                for (let outlier = 0; outlier < keyOutliers; outlier += 1) {
                  const position = (keyPositionBytes == 1 ? <i32>load<u8>(sliceOutlierPositions + <usize>outlier) : <i32>load<u16>(sliceOutlierPositions + (<usize>outlier << 1))) - elementOffset;
                  if (<u32>position >= <u32>headDim) continue;
                  const exact = halfToFloat(load<u16>(sliceOutlierValues + (<usize>outlier << 1)));
                  const reconstructed = minimum + (<f32>load<u16>(words + (<usize>position << 1)) + 0.5) * step;
                  score += load<f32>(query + (<usize>position << 2)) * (exact - reconstructed);
                }
              }
              store<f32>(scores + (<usize>(row * paddedTokens + token) << 2), score * scoreScale);
            }
          }
        }
      }
      // Exact softmax per row over its visible tokens, max-subtracted; probabilities replace the scores.
      for (let row = 0; row < rows; row += 1) {
        const first = max(load<i32>(firsts + (<usize>row << 2)), low);
        const last = min(load<i32>(lasts + (<usize>row << 2)), high - 1);
        const base = scores + (<usize>(row * paddedTokens) << 2);
        const record = partials + partialRecordBytes * <usize>(kvHead * rows + row);
        if (first > last) {
          // Only in a chunk: this row sees none of its tokens.
          store<f64>(record, -Infinity);
          store<f64>(record, 0, 8);
          continue;
        }
        let maxima = f32x4.splat(-Infinity);
        let scan = first;
        for (; scan + 4 <= last + 1; scan += 4) maxima = f32x4.max(maxima, v128.load(base + (<usize>scan << 2)));
        let maximum = max(max(f32x4.extract_lane(maxima, 0), f32x4.extract_lane(maxima, 1)), max(f32x4.extract_lane(maxima, 2), f32x4.extract_lane(maxima, 3)));
        for (; scan <= last; scan += 1) maximum = max(maximum, load<f32>(base + (<usize>scan << 2)));
        const shift = f32x4.splat(maximum);
        // The normaliser is summed in f64: over tens of thousands of tokens an f32 sum would drift by ~1e-4.
        let totalLow = f64x2.splat(0);
        let totalHigh = f64x2.splat(0);
        let token = first;
        for (; token + 4 <= last + 1; token += 4) {
          const address = base + (<usize>token << 2);
          const weights = exp4(f32x4.sub(v128.load(address), shift));
          v128.store(address, weights);
          totalLow = f64x2.add(totalLow, f64x2.promote_low_f32x4(weights));
          totalHigh = f64x2.add(totalHigh, f64x2.promote_low_f32x4(i32x4.shuffle(weights, weights, 2, 3, 0, 1)));
        }
        const totals = f64x2.add(totalLow, totalHigh);
        let sum: f64 = f64x2.extract_lane(totals, 0) + f64x2.extract_lane(totals, 1);
        for (; token <= last; token += 1) {
          const address = base + (<usize>token << 2);
          const weight = f32x4.extract_lane(exp4(f32x4.splat(load<f32>(address) - maximum)), 0);
          store<f32>(address, weight);
          sum += <f64>weight;
        }
        if (partials != 0) {
          // A chunk keeps exp(score − m) and reports m and the sum; mergeParts normalises.
          store<f64>(record, <f64>maximum);
          store<f64>(record, sum, 8);
          continue;
        }
        const inverse = f32x4.splat(<f32>(1.0 / sum));
        token = first;
        for (; token + 4 <= last + 1; token += 4) {
          const address = base + (<usize>token << 2);
          v128.store(address, f32x4.mul(v128.load(address), inverse));
        }
        for (; token <= last; token += 1) {
          const address = base + (<usize>token << 2);
          store<f32>(address, load<f32>(address) * <f32>(1.0 / sum));
        }
        if (maxProbabilities != 0) {
          const query = row / headsPerKv;
          const target = maxProbabilities + (<usize>((query * kvHeads + kvHead) * tokenCount) << 2);
          if (row % headsPerKv == 0) {
            memory.fill(target, 0, <usize>tokenCount << 2);
            memory.copy(target + (<usize>first << 2), base + (<usize>first << 2), <usize>(last - first + 1) << 2);
          } else {
            let index = first;
            for (; index + 4 <= last + 1; index += 4) {
              const address = target + (<usize>index << 2);
              v128.store(address, f32x4.max(v128.load(address), v128.load(base + (<usize>index << 2))));
            }
            for (; index <= last; index += 1) {
              const address = target + (<usize>index << 2);
              store<f32>(address, max(load<f32>(address), load<f32>(base + (<usize>index << 2))));
            }
          }
        }
      }
    }
    if (phase == PHASE_SCORES || valuesMerged) continue;
    // Output straight from the packed values: Σ p·s·codes, plus Σ p·(m + s/2) per row (lane D), plus outliers.
    const valueBytes = <usize>valueLength << 2;
    memory.fill(accumulators, 0, <usize>(rows * valueLength) << 2);
    memory.fill(totals, 0, <usize>(rows * valueLength) << 3);
    const accumulatorLanes = rows * valueLength;
    const weightStride = <usize>rows << 2;
    const newestFirst = load<i32>(firsts + (<usize>(rows - 1) << 2));
    const oldestLast = load<i32>(lasts);
    const keptCount = skipsNegligible
      ? keepNonNegligible(scores, paddedTokens, rows, firsts, lasts, low, high, partials, partialRecordBytes, kvHead, negligibleProbability, normalizers, products, keptTokens)
      : keepAll(low, high, keptTokens);
    for (let keptIndex = 0; keptIndex < keptCount; keptIndex += 4) {
      if ((keptIndex & 63) == 0 && keptIndex > 0) flushAccumulators(accumulators, totals, accumulatorLanes);
      const blockTokens = min(4, keptCount - keptIndex);
      const blockAddress = keptTokens + (<usize>keptIndex << 2);
      for (let index = 0; index < blockTokens; index += 1) {
        const token = load<i32>(blockAddress + (<usize>index << 2));
        const slice = valueSlices + valueBytes * <usize>index;
        loadSlice(valueDescriptor, token * groupsPerToken + headGroup, elementOffset, headDim, slice, 0);
        const bits = sliceBits;
        const minimum = sliceMinimum;
        const step = sliceStep;
        const factor: f32 = bits == 16 ? 1 : step;
        v128.store(slice + (<usize>headDim << 2), f32x4.replace_lane(f32x4.splat(0), 0, bits == 16 ? 0 : (minimum + 0.5 * step) / step));
        const tokenWeights = weights + weightStride * <usize>index;
        const probabilities = scores + (<usize>token << 2);
        const rowStride = <usize>paddedTokens << 2;
        if (token >= newestFirst && token <= oldestLast) {
          for (let row = 0; row < rows; row += 1) {
            store<f32>(tokenWeights + (<usize>row << 2), load<f32>(probabilities + rowStride * <usize>row) * factor);
          }
        } else {
          // Masked rows weigh 0 (their score slots hold stale data).
          for (let row = 0; row < rows; row += 1) {
            const visible = token >= load<i32>(firsts + (<usize>row << 2)) && token <= load<i32>(lasts + (<usize>row << 2));
            store<f32>(tokenWeights + (<usize>row << 2), visible ? load<f32>(probabilities + rowStride * <usize>row) * factor : 0);
          }
        }
        if (bits == 16) continue;
        // An outlier becomes the fractional "code" that reconstructs it exactly: m + (c′ + ½)·s = exact.
        for (let outlier = 0; outlier < valueOutliers; outlier += 1) {
          const position = (valuePositionBytes == 1 ? <i32>load<u8>(sliceOutlierPositions + <usize>outlier) : <i32>load<u16>(sliceOutlierPositions + (<usize>outlier << 1))) - elementOffset;
          if (<u32>position >= <u32>headDim) continue;
          const exact = halfToFloat(load<u16>(sliceOutlierValues + (<usize>outlier << 1)));
          store<f32>(slice + (<usize>position << 2), (exact - minimum) / step - 0.5);
        }
      }
      if (blockTokens == 4) {
        let blockStart = 0;
        for (; blockStart + 4 <= rows; blockStart += 4) {
          accumulateFourTokens(valueSlices, valueBytes, valueLength, accumulators + valueBytes * <usize>blockStart, valueBytes, weights + (<usize>blockStart << 2), weightStride, 4);
        }
        const remaining = rows - blockStart;
        const accumulator = accumulators + valueBytes * <usize>blockStart;
        const blockWeights = weights + (<usize>blockStart << 2);
        if (remaining == 3) accumulateFourTokens(valueSlices, valueBytes, valueLength, accumulator, valueBytes, blockWeights, weightStride, 3);
        else if (remaining == 2) accumulateFourTokens(valueSlices, valueBytes, valueLength, accumulator, valueBytes, blockWeights, weightStride, 2);
        else if (remaining == 1) accumulateFourTokens(valueSlices, valueBytes, valueLength, accumulator, valueBytes, blockWeights, weightStride, 1);
        continue;
      }
      for (let index = 0; index < blockTokens; index += 1) {
        const slice = valueSlices + valueBytes * <usize>index;
        const w = weights + weightStride * <usize>index;
        let blockStart = 0;
        for (; blockStart + 4 <= rows; blockStart += 4) {
          const at = w + (<usize>blockStart << 2);
          axpy4(slice, valueLength, accumulators + valueBytes * <usize>blockStart, valueBytes, load<f32>(at), load<f32>(at, 4), load<f32>(at, 8), load<f32>(at, 12));
        }
        for (; blockStart < rows; blockStart += 1) {
          axpy1(slice, valueLength, accumulators + valueBytes * <usize>blockStart, load<f32>(w + (<usize>blockStart << 2)));
        }
      }
    }
    flushAccumulators(accumulators, totals, accumulatorLanes);
    if (partials != 0) {
      for (let row = 0; row < rows; row += 1) {
        finishRow(totals + ((valueBytes * <usize>row) << 1), headDim, partials + partialRecordBytes * <usize>(kvHead * rows + row) + 16, true);
      }
      continue;
    }
    for (let row = 0; row < rows; row += 1) {
      const target = output + rowBytes * <usize>((row / headsPerKv) * queryHeads + kvHead * headsPerKv + (row % headsPerKv));
      finishRow(totals + ((valueBytes * <usize>row) << 1), headDim, target, false);
    }
  }
  if (valuesMerged) {
    valuesAllHeads(
      valueDescriptor, kvHeads, headDim, rows, max(low, load<i32>(firsts)), min(high - 1, load<i32>(lasts)),
      scoreBase, headScoreBytes, paddedTokens, skipsNegligible, negligibleProbability, partials, partialRecordBytes, normalizers,
      headThresholds, keptTokens, valueSlices, weights, accumulators, totals, output, fastValues ? blockRecords : 0, buffer,
    );
  }
}

/** Where the module's own static data ends: the arena starts above it. */
export function heapBase(): usize {
  return __heap_base;
}

/**
 * Combines the `chunkCount` chunk results of a split call (attendRange with partials; chunk c covers tokens
 * [lowest + c·chunkTokens, lowest + (c + 1)·chunkTokens) ∩ [0, end)) into `output` and `maxProbabilities`, with
 * `attend`'s layout. Per row: M = max m_c, Z = Σ sum_c·e^(m_c − M), weight of chunk c w_c = e^(m_c − M)/Z (f64),
 * output = Σ_c w_c·outputs_c, and each token's probability is its exp(score − m_c) · w_c. `coefficients` holds
 * chunkCount f64.
 */
export function mergeParts(
  chunkCount: i32,
  chunkStride: usize,
  partials: usize,
  chunkTokens: i32,
  tokenCount: i32,
  kvHeads: i32,
  headDim: i32,
  queryHeads: i32,
  queryCount: i32,
  firstPosition: i32,
  window: i32,
  sharedScores: usize,
  output: usize,
  maxProbabilities: usize,
  coefficients: usize,
): void {
  const headsPerKv = queryHeads / kvHeads;
  const rows = queryCount * headsPerKv;
  const paddedTokens = (tokenCount + 3) & ~3;
  const recordBytes = <usize>(headDim + 2) << 3;
  const rowBytes = <usize>headDim << 2;
  const lowest = lowestVisibleToken(firstPosition, window);
  const end = firstPosition + queryCount;
  for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
    for (let row = 0; row < rows; row += 1) {
      const records = partials + recordBytes * <usize>(kvHead * rows + row);
      const total = chunkScales(records, chunkStride, chunkCount, chunkMaximum(records, chunkStride, chunkCount), coefficients);
      const inverse = 1.0 / total;
      for (let chunk = 0; chunk < chunkCount; chunk += 1) {
        const address = coefficients + (<usize>chunk << 3);
        store<f64>(address, load<f64>(address) * inverse);
      }
      const target = output + rowBytes * <usize>((row / headsPerKv) * queryHeads + kvHead * headsPerKv + (row % headsPerKv));
      for (let index = 0; index < headDim; index += 2) {
        let sums = f64x2.splat(0);
        for (let chunk = 0; chunk < chunkCount; chunk += 1) {
          const weight = f64x2.splat(load<f64>(coefficients + (<usize>chunk << 3)));
          sums = f64x2.add(sums, f64x2.mul(weight, v128.load(records + chunkStride * <usize>chunk + 16 + (<usize>index << 3))));
        }
        v128.store64_lane(target + (<usize>index << 2), f32x4.demote_f64x2_zero(sums), 0);
      }
      if (maxProbabilities == 0) continue;
      const query = row / headsPerKv;
      const probabilities = maxProbabilities + (<usize>((query * kvHeads + kvHead) * tokenCount) << 2);
      const rowLast = firstPosition + query;
      const rowFirst = window > 0 ? max(0, rowLast - window + 1) : 0;
      const firstRowOfHead = row % headsPerKv == 0;
      if (firstRowOfHead) memory.fill(probabilities, 0, <usize>tokenCount << 2);
      const weights = sharedScores + (<usize>((kvHead * rows + row) * paddedTokens) << 2);
      for (let chunk = 0; chunk < chunkCount; chunk += 1) {
        const chunkStart = lowest + chunk * chunkTokens;
        const first = max(rowFirst, chunkStart);
        const last = min(rowLast, min(end, chunkStart + chunkTokens) - 1);
        if (first > last) continue;
        const scale = <f32>load<f64>(coefficients + (<usize>chunk << 3));
        const scaleVector = f32x4.splat(scale);
        let token = first;
        if (firstRowOfHead) {
          for (; token + 4 <= last + 1; token += 4) {
            const offset = <usize>token << 2;
            v128.store(probabilities + offset, f32x4.mul(v128.load(weights + offset), scaleVector));
          }
          for (; token <= last; token += 1) {
            const offset = <usize>token << 2;
            store<f32>(probabilities + offset, load<f32>(weights + offset) * scale);
          }
        } else {
          for (; token + 4 <= last + 1; token += 4) {
            const offset = <usize>token << 2;
            v128.store(probabilities + offset, f32x4.max(v128.load(probabilities + offset), f32x4.mul(v128.load(weights + offset), scaleVector)));
          }
          for (; token <= last; token += 1) {
            const offset = <usize>token << 2;
            store<f32>(probabilities + offset, max(load<f32>(probabilities + offset), load<f32>(weights + offset) * scale));
          }
        }
      }
    }
  }
}
