import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The library must run in browsers: no Node or DOM APIs outside tests.
describe('package purity', () => {
  it('library sources use no Node or DOM runtime APIs', () => {
    const directory = fileURLToPath(new URL('./', import.meta.url));
    const sources = readdirSync(directory).filter((name) => name.endsWith('.ts') && !/\.test(-utils)?\.ts$/.test(name));
    expect(sources.length).toBeGreaterThan(5);
    for (const name of sources) {
      const text = readFileSync(directory + name, 'utf8');
      expect(text, name).not.toMatch(/from 'node:|\bprocess\.|\bBuffer\b|\bwindow\.|\bdocument\.|\brequire\(['"]/);
    }
  });
});
