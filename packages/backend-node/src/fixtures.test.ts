import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fixtureModel, type FixtureName } from '@qaq/backend-conformance';
import { describe, expect, it } from 'vitest';

// The conformance suite embeds its fixtures as hex (it must run in browsers); this checks they match the .onnx
// files the generator wrote, so neither can drift. Lives here because the conformance package has no file system.
const fixtureFiles: Record<FixtureName, string> = {
  add: 'add.onnx',
  matmul: 'matmul.onnx',
  softmax: 'softmax.onnx',
  roundTrip: 'round-trip.onnx',
  multiOutput: 'multi-output.onnx',
};

describe('conformance fixtures', () => {
  it.each(Object.entries(fixtureFiles))('%s matches fixtures/%s', (name, file) => {
    const path = fileURLToPath(new URL(`../../backend-conformance/fixtures/${file}`, import.meta.url));
    expect(Buffer.compare(Buffer.from(fixtureModel(name as FixtureName)), readFileSync(path))).toBe(0);
  });
});
