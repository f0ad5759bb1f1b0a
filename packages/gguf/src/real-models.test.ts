import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  base64Bytes,
  readFixtureJson,
  realModelPath,
  realModels,
  type BlockFixture,
  type HeaderFixture,
} from './fixtures.test-utils.js';
import {
  affineLayoutOrUndefined,
  decodeAffineBlocksInto,
  dequantize,
  readGguf,
  tensorBytes,
  tensorTypeInfoOrUndefined,
  tensorTypeName,
} from './index.js';

describe('every tensor of the real models', () => {
  for (const model of realModels) {
    const path = realModelPath(model.path);
    it.runIf(path !== undefined)(`${model.id}: dequantizes all tensors; affine blocks reproduce them`, () => {
      const bytes = new Uint8Array(readFileSync(path as string));
      const file = readGguf(bytes);
      const header = readFixtureJson<HeaderFixture>(`${model.id}-header.json`);
      expect(file.tensors.length).toBe(header.tensors.length);
      expect(file.metadata.size).toBe(Object.keys(header.metadata).length);

      // The committed block fixtures are the bytes of these very files.
      for (const entry of readFixtureJson<BlockFixture>(`${model.id}-blocks.json`).entries) {
        const tensor = file.tensors.find((candidate) => candidate.name === entry.tensor);
        const info = tensorTypeInfoOrUndefined(entry.type);
        if (tensor === undefined || info === undefined) throw new Error(`fixture tensor ${entry.tensor} missing`);
        const start = (entry.elementOffset / info.blockElementCount) * info.blockByteLength;
        const raw = tensorBytes(file, bytes, tensor).subarray(start, start + base64Bytes(entry.raw).length);
        expect(raw).toEqual(base64Bytes(entry.raw));
      }

      const largest = Math.max(...file.tensors.map((tensor) => tensor.elementCount));
      const values = new Float32Array(largest);
      const target = { codes: new Uint8Array(largest), scales: new Float32Array(largest / 16), offsets: new Float32Array(largest / 16) };
      const mismatchesByType = new Map<string, number>();
      let finite = 0;
      let total = 0;
      for (const tensor of file.tensors) {
        const data = tensorBytes(file, bytes, tensor);
        dequantize(tensor.type, data, tensor.elementCount, values);
        for (let index = 0; index < tensor.elementCount; index++) if ((values[index] as number) - (values[index] as number) === 0) finite++;
        total += tensor.elementCount;
        const layout = affineLayoutOrUndefined(tensor.type);
        if (layout === undefined) continue;
        const blocks = decodeAffineBlocksInto(tensor.type, data, tensor.elementCount, target);
        let mismatches = 0;
        const { codes, scales, offsets } = blocks;
        for (let block = 0; block < scales.length; block++) {
          const scale = scales[block] as number;
          const offset = offsets[block] as number;
          const end = (block + 1) * layout.blockSize;
          for (let index = block * layout.blockSize; index < end; index++) {
            if (Math.fround(Math.fround(scale * (codes[index] as number)) + offset) !== values[index]) mismatches++;
          }
        }
        const name = tensorTypeName(tensor.type);
        mismatchesByType.set(name, (mismatchesByType.get(name) ?? 0) + mismatches);
      }
      expect(finite).toBe(total);
      expect([...mismatchesByType.values()].every((count) => count === 0), JSON.stringify([...mismatchesByType])).toBe(true);
    });
  }
});
