/**
 * Throughput of the hot paths, in GB/s of float32 data (4 bytes per element), beside a plain
 * Float32Array.prototype.set copy of the same data in the same run.
 *
 *   pnpm --filter @qaq/quantization bench
 *   (= node --conditions=source --import tsx bench/throughput.bench.ts [elementsLog2=22] [runs=9])
 *
 * Each figure is the best of `runs` passes over the whole buffer after one warm-up pass, timed in CPU time of
 * this process (process.cpuUsage): the machines this runs on are shared by several busy processes, and wall
 * time there mostly measures the scheduler. The copy, memory-bound and the most disturbed by neighbours, gets
 * 3·runs passes before and 3·runs after the rest; its best is the baseline.
 * All widths run in one process, so the call sites see every width, as in a QAQ cache. "per group" calls
 * unpackAndDequantizeGroup once per group; "batched" calls unpackAndDequantizeGroups once for all groups.
 */
import {
  decodeFloat16,
  encodeFloat16,
  nativeFloat16ArrayAvailable,
  packedByteLength,
  quantizeAndPackGroup,
  unpackAndDequantizeGroup,
  unpackAndDequantizeGroups,
} from '../src/index.js';

const elementsLog2 = Number(process.argv[2] ?? 22);
const runs = Number(process.argv[3] ?? 9);
const elementCount = 2 ** elementsLog2;
const bytesOfFloat32 = elementCount * 4;

/** Best GB/s of `pass` over the whole buffer. */
function measure(pass: () => void, passes: number = runs): number {
  pass();
  let fastest = Infinity;
  for (let run = 0; run < passes; run += 1) {
    const start = process.cpuUsage();
    pass();
    const used = process.cpuUsage(start);
    fastest = Math.min(fastest, (used.user + used.system) / 1e6);
  }
  return bytesOfFloat32 / fastest / 1e9;
}

// Roughly Gaussian values (sum of uniforms) with a few large ones, like KV activations.
const source = new Float32Array(elementCount);
let seed = 12345;
const random = (): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 4294967296;
};
for (let index = 0; index < elementCount; index += 1) {
  const gaussian = random() + random() + random() + random() - 2;
  source[index] = index % 97 === 0 ? gaussian * 20 : gaussian;
}
const target = new Float32Array(elementCount);
const copyPass = (): void => target.set(source);

const copyBefore = measure(copyPass, 3 * runs);
const results: { bits: number; groupLength: number; quantize: number; dequantize: number; batched: number }[] = [];
for (const groupLength of [64, 256]) {
  for (const bits of [2, 3, 4, 8]) {
    const groupCount = elementCount / groupLength;
    const groupBytes = packedByteLength(groupLength, bits);
    const packed = new Uint8Array(groupCount * groupBytes);
    const parameters = new Float32Array(groupCount * 2);
    const quantize = measure(() => {
      for (let group = 0; group < groupCount; group += 1) {
        quantizeAndPackGroup(source, group * groupLength, groupLength, 1, bits, packed, group * groupBytes, parameters, group * 2);
      }
    });
    const dequantize = measure(() => {
      for (let group = 0; group < groupCount; group += 1) {
        unpackAndDequantizeGroup(
          packed,
          group * groupBytes,
          groupLength,
          bits,
          parameters[group * 2] as number,
          parameters[group * 2 + 1] as number,
          target,
          group * groupLength,
        );
      }
    });
    const batched = measure(() =>
      unpackAndDequantizeGroups(packed, 0, groupCount, groupLength, bits, parameters, 0, target, 0),
    );
    results.push({ bits, groupLength, quantize, dequantize, batched });
  }
}
const halves = new Uint16Array(elementCount);
const float16Rows: string[] = [];
for (const implementation of nativeFloat16ArrayAvailable ? (['portable', 'native'] as const) : (['portable'] as const)) {
  const encode = measure(() => encodeFloat16(source, halves, elementCount, implementation));
  const decode = measure(() => decodeFloat16(halves, target, elementCount, implementation));
  float16Rows.push(`  ${implementation}: encode ${encode.toFixed(2)} GB/s, decode ${decode.toFixed(2)} GB/s`);
}
const copyAfter = measure(copyPass, 3 * runs);
const copy = Math.max(copyBefore, copyAfter);

const rows = [
  `node ${process.version}, elements 2^${elementsLog2} (${bytesOfFloat32 / 2 ** 20} MiB fp32), best of ${runs} passes in CPU time`,
  `Float32Array.set copy: ${copy.toFixed(2)} GB/s (before ${copyBefore.toFixed(2)}, after ${copyAfter.toFixed(2)})`,
  '',
  '| bits | group | quantize+pack GB/s | unpack+dequantize GB/s (per group) | / copy | batched GB/s (…Groups) | / copy |',
  '|---:|---:|---:|---:|---:|---:|---:|',
  ...results.map(
    ({ bits, groupLength, quantize, dequantize, batched }) =>
      `| ${bits} | ${groupLength} | ${quantize.toFixed(2)} | ${dequantize.toFixed(2)} | ${((100 * dequantize) / copy).toFixed(0)}% | ` +
      `${batched.toFixed(2)} | ${((100 * batched) / copy).toFixed(0)}% |`,
  ),
  '',
  `fp16 bulk (native Float16Array ${nativeFloat16ArrayAvailable ? 'available' : 'unavailable'}):`,
  ...float16Rows,
];
console.log(rows.join('\n'));
