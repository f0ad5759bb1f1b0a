// Fused dequantize-attention over the packed QAQ KV cache, one layer, WebAssembly SIMD (simd128).
// Everything is addressed by byte offsets into the one imported memory, where the cache's pools live.
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
    v128.store(target, f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(low)));
    v128.store(target, f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(low)), 16);
    v128.store(target, f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(high)), 32);
    v128.store(target, f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(high)), 48);
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
    v128.store(target, f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(codesLow)));
    v128.store(target, f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(codesLow)), 16);
    v128.store(target, f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(codesHigh)), 32);
    v128.store(target, f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(codesHigh)), 48);
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

// The group slice last loaded by loadSlice.
let sliceBits: i32 = 0;
let sliceMinimum: f32 = 0;
let sliceStep: f32 = 0;
let sliceOutlierValues: usize = 0;
let sliceOutlierPositions: usize = 0;

/** Unpacks group `group`'s D elements from `elementOffset` into `buffer` and records its parameters. */
@inline function loadSlice(descriptor: usize, group: i32, elementOffset: i32, headDim: i32, buffer: usize): void {
  const bits = <i32>load<u8>(<usize>word(descriptor, DESCRIPTOR_BITS) + <usize>group);
  const slots = <usize>word(descriptor, DESCRIPTOR_SLOTS);
  const slot = word(descriptor, DESCRIPTOR_SLOT_BYTES) == 2 ? <i32>load<u16>(slots + (<usize>group << 1)) : load<i32>(slots + (<usize>group << 2));
  const pool = DESCRIPTOR_POOLS + bits * POOL_WORDS;
  const codes = <usize>word(descriptor, pool) + <usize>(slot * word(descriptor, pool + 4)) + <usize>((elementOffset * bits) >> 3);
  unpackSlice(bits, codes, headDim, buffer);
  sliceBits = bits;
  if (bits != 16) {
    const parameters = <usize>word(descriptor, pool + 1) + (<usize>slot << 2);
    sliceMinimum = halfToFloat(load<u16>(parameters));
    sliceStep = halfToFloat(load<u16>(parameters, 2));
    const outliers = word(descriptor, DESCRIPTOR_OUTLIERS);
    sliceOutlierValues = <usize>word(descriptor, pool + 2) + <usize>(slot * outliers * 2);
    sliceOutlierPositions = <usize>word(descriptor, pool + 3) + <usize>(slot * outliers * word(descriptor, DESCRIPTOR_POSITION_BYTES));
  }
}

@inline function horizontalSum(vector: v128): f32 {
  return f32x4.extract_lane(vector, 0) + f32x4.extract_lane(vector, 1) + (f32x4.extract_lane(vector, 2) + f32x4.extract_lane(vector, 3));
}

/** Σ a·b over `count` f32 (a multiple of 8), two accumulators. */
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

/** accumulator += weight · source over `count` f32 (a multiple of 8). */
@inline function axpy(accumulator: usize, weight: f32, source: usize, count: i32): void {
  const factor = f32x4.splat(weight);
  for (let index = 0; index < count; index += 8) {
    const offset = <usize>index << 2;
    v128.store(accumulator + offset, f32x4.add(v128.load(accumulator + offset), f32x4.mul(factor, v128.load(source + offset))));
    v128.store(accumulator + offset, f32x4.add(v128.load(accumulator + offset, 16), f32x4.mul(factor, v128.load(source + offset, 16))), 16);
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

/** Scratch bytes `attend` needs for `rows` query rows (query positions · query heads per KV head). */
export function scratchBytes(rows: i32, tokenCount: i32, headDim: i32): i32 {
  const paddedTokens = (tokenCount + 3) & ~3;
  return (headDim + rows * 4 + rows * headDim + rows * paddedTokens) * 4 + 64;
}

/**
 * One layer's attention for `queryCount` consecutive query positions, the first at `firstPosition`
 * (queries [queryCount, queryHeads, headDim] f32; output likewise). Query i sees tokens
 * max(0, p − window + 1) ≤ t ≤ p, p = firstPosition + i (window 0: no limit). maxProbabilities (0: not wanted)
 * is [queryCount, kvHeads, tokenCount]: per token, the largest probability over the query heads of each KV head,
 * 0 where masked. groupsPerToken is kvHeads (a group per KV head) or 1 (a group spans all KV heads).
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
): void {
  const headsPerKv = queryHeads / kvHeads;
  const rows = queryCount * headsPerKv;
  const paddedTokens = (tokenCount + 3) & ~3;
  const buffer = (scratch + 15) & ~(<usize>15);
  const querySums = buffer + (<usize>headDim << 2);
  const firsts = querySums + (<usize>rows << 2);
  const lasts = firsts + (<usize>rows << 2);
  const biases = lasts + (<usize>rows << 2);
  const accumulators = biases + (<usize>rows << 2);
  const scores = accumulators + (<usize>(rows * headDim) << 2);
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
  for (let kvHead = 0; kvHead < kvHeads; kvHead += 1) {
    const headGroup = groupsPerToken == 1 ? 0 : kvHead;
    const elementOffset = groupsPerToken == 1 ? kvHead * headDim : 0;
    for (let row = 0; row < rows; row += 1) {
      const query = queries + rowBytes * <usize>((row / headsPerKv) * queryHeads + kvHead * headsPerKv + (row % headsPerKv));
      let sum = f32x4.splat(0);
      for (let index = 0; index < headDim; index += 4) sum = f32x4.add(sum, v128.load(query + (<usize>index << 2)));
      store<f32>(querySums + (<usize>row << 2), horizontalSum(sum));
    }
    // Scores straight from the packed keys.
    for (let token = lowest; token < end; token += 1) {
      loadSlice(keyDescriptor, token * groupsPerToken + headGroup, elementOffset, headDim, buffer);
      const bits = sliceBits;
      const minimum = sliceMinimum;
      const step = sliceStep;
      const offset = minimum + 0.5 * step;
      for (let row = 0; row < rows; row += 1) {
        if (token < load<i32>(firsts + (<usize>row << 2)) || token > load<i32>(lasts + (<usize>row << 2))) continue;
        const query = queries + rowBytes * <usize>((row / headsPerKv) * queryHeads + kvHead * headsPerKv + (row % headsPerKv));
        const product = dot(query, buffer, headDim);
        let score: f32;
        if (bits == 16) {
          score = product;
        } else {
          score = step * product + offset * load<f32>(querySums + (<usize>row << 2));
          for (let outlier = 0; outlier < keyOutliers; outlier += 1) {
            const position = (keyPositionBytes == 1 ? <i32>load<u8>(sliceOutlierPositions + <usize>outlier) : <i32>load<u16>(sliceOutlierPositions + (<usize>outlier << 1))) - elementOffset;
            if (<u32>position >= <u32>headDim) continue;
            const exact = halfToFloat(load<u16>(sliceOutlierValues + (<usize>outlier << 1)));
            const reconstructed = minimum + (load<f32>(buffer + (<usize>position << 2)) + 0.5) * step;
            score += load<f32>(query + (<usize>position << 2)) * (exact - reconstructed);
          }
        }
        store<f32>(scores + (<usize>(row * paddedTokens + token) << 2), score * scoreScale);
      }
    }
    // Exact softmax per row over its visible tokens, max-subtracted; probabilities replace the scores.
    for (let row = 0; row < rows; row += 1) {
      const first = load<i32>(firsts + (<usize>row << 2));
      const last = load<i32>(lasts + (<usize>row << 2));
      const base = scores + (<usize>(row * paddedTokens) << 2);
      let maximum: f32 = -Infinity;
      for (let token = first; token <= last; token += 1) maximum = max(maximum, load<f32>(base + (<usize>token << 2)));
      const shift = f32x4.splat(maximum);
      let total = f32x4.splat(0);
      let token = first;
      for (; token + 4 <= last + 1; token += 4) {
        const address = base + (<usize>token << 2);
        const weights = exp4(f32x4.sub(v128.load(address), shift));
        v128.store(address, weights);
        total = f32x4.add(total, weights);
      }
      let sum = horizontalSum(total);
      for (; token <= last; token += 1) {
        const address = base + (<usize>token << 2);
        const weight = f32x4.extract_lane(exp4(f32x4.splat(load<f32>(address) - maximum)), 0);
        store<f32>(address, weight);
        sum += weight;
      }
      const inverse = f32x4.splat(<f32>1.0 / sum);
      token = first;
      for (; token + 4 <= last + 1; token += 4) {
        const address = base + (<usize>token << 2);
        v128.store(address, f32x4.mul(v128.load(address), inverse));
      }
      for (; token <= last; token += 1) {
        const address = base + (<usize>token << 2);
        store<f32>(address, load<f32>(address) * (<f32>1.0 / sum));
      }
      if (maxProbabilities != 0) {
        const query = row / headsPerKv;
        const target = maxProbabilities + (<usize>((query * kvHeads + kvHead) * tokenCount) << 2);
        if (row % headsPerKv == 0) {
          memory.fill(target, 0, <usize>tokenCount << 2);
          memory.copy(target + (<usize>first << 2), base + (<usize>first << 2), <usize>(last - first + 1) << 2);
        } else {
          for (let index = first; index <= last; index += 1) {
            const address = target + (<usize>index << 2);
            store<f32>(address, max(load<f32>(address), load<f32>(base + (<usize>index << 2))));
          }
        }
      }
    }
    // Output straight from the packed values: Σ p·s·codes, plus Σ p·(m + s/2) per row, plus outliers.
    memory.fill(biases, 0, <usize>(rows + rows * headDim) << 2);
    for (let token = lowest; token < end; token += 1) {
      loadSlice(valueDescriptor, token * groupsPerToken + headGroup, elementOffset, headDim, buffer);
      const bits = sliceBits;
      const minimum = sliceMinimum;
      const step = sliceStep;
      const offset = minimum + 0.5 * step;
      for (let row = 0; row < rows; row += 1) {
        if (token < load<i32>(firsts + (<usize>row << 2)) || token > load<i32>(lasts + (<usize>row << 2))) continue;
        const probability = load<f32>(scores + (<usize>(row * paddedTokens + token) << 2));
        if (probability == 0) continue;
        const accumulator = accumulators + rowBytes * <usize>row;
        if (bits == 16) {
          axpy(accumulator, probability, buffer, headDim);
          continue;
        }
        axpy(accumulator, probability * step, buffer, headDim);
        const bias = biases + (<usize>row << 2);
        store<f32>(bias, load<f32>(bias) + probability * offset);
        for (let outlier = 0; outlier < valueOutliers; outlier += 1) {
          const position = (valuePositionBytes == 1 ? <i32>load<u8>(sliceOutlierPositions + <usize>outlier) : <i32>load<u16>(sliceOutlierPositions + (<usize>outlier << 1))) - elementOffset;
          if (<u32>position >= <u32>headDim) continue;
          const exact = halfToFloat(load<u16>(sliceOutlierValues + (<usize>outlier << 1)));
          const reconstructed = minimum + (load<f32>(buffer + (<usize>position << 2)) + 0.5) * step;
          const address = accumulator + (<usize>position << 2);
          store<f32>(address, load<f32>(address) + probability * (exact - reconstructed));
        }
      }
    }
    for (let row = 0; row < rows; row += 1) {
      const target = output + rowBytes * <usize>((row / headsPerKv) * queryHeads + kvHead * headsPerKv + (row % headsPerKv));
      const accumulator = accumulators + rowBytes * <usize>row;
      const bias = f32x4.splat(load<f32>(biases + (<usize>row << 2)));
      for (let index = 0; index < headDim; index += 4) {
        const offset = <usize>index << 2;
        v128.store(target + offset, f32x4.add(v128.load(accumulator + offset), bias));
      }
    }
  }
}

/** Where the module's own static data ends: the arena starts above it. */
export function heapBase(): usize {
  return __heap_base;
}
